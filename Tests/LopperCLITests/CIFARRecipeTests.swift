import XCTest
import Foundation

/// The recipes on CIFAR-10 files written in the binary distribution's format: 3,073-byte
/// records (a label byte, then 3x32x32 pixels), five training batches and a test batch.
/// Class k's images are a flat grey of brightness 20 + 22k with noise, so a network can
/// tell them apart after a few steps.
final class CIFARRecipeTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-cifar-\(UUID().uuidString)/cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // Seeded: the same files every run, so a tiny training run's accuracy is a fixed figure.
        var rng = SplitMix64(seed: 1)
        func batch(_ name: String, _ n: Int) throws {
            var bytes: [UInt8] = []
            for i in 0..<n {
                let k = i % 10
                bytes.append(UInt8(k))
                for _ in 0..<3072 { bytes.append(UInt8(clamping: 20 + 22 * k + Int.random(in: -10...10, using: &rng))) }
            }
            try Data(bytes).write(to: root.appendingPathComponent(name))
        }
        for b in 1...5 { try batch("data_batch_\(b).bin", 40) }
        try batch("test_batch.bin", 50)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root.deletingLastPathComponent())
    }

    func run(_ recipe: String, _ settings: [String], folder: URL? = nil) throws -> String {
        try runRecipe(recipe, (folder.map { ["--runs-dir", $0.path] } ?? ["--no-run-folder"])
                      + (["data=cifar10", "root=\(root.path)"] + settings).flatMap { ["--set", $0] })
    }

    func testBaselineTrainsEachModelAndReportsAccuracyAndTimePerEpoch() throws {
        let runs = root.deletingLastPathComponent().appendingPathComponent("runs")
        let out = try run("cifar_baseline", ["epochs=3", "batch=20", "width=0.25", "models=[resnet20,vgg11]"], folder: runs)
        let lines = out.components(separatedBy: "\n")
        for model in ["resnet20", "vgg11"] {
            for epoch in 1...3 { XCTAssertTrue(lines.contains { $0.hasPrefix("\(model) epoch   \(epoch)  loss") }, out) }
        }
        // The table: model, parameters (ResNet-20 at a quarter width: 17,534), accuracy, seconds an epoch.
        let rows = lines.filter { $0.hasPrefix("resnet20  ") || $0.hasPrefix("vgg11  ") }.map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(rows.map { $0[0] }, ["resnet20", "vgg11"], out)
        XCTAssertEqual(rows[0][1], "17534", out)
        for r in rows {
            let acc = Double(r[2]) ?? -1, seconds = Double(r[3]) ?? -1
            XCTAssertTrue(acc >= 0 && acc <= 100 && seconds > 0, out)
        }
        // Better than a constant guess (10%) on the 50 test images.
        XCTAssertGreaterThan(Double(rows[0][2]) ?? 0, 10, out)
        // Every evaluation is logged for the report.
        let folder = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: runs.path).first { $0.hasPrefix("cifar_baseline") })
        let metrics = try String(contentsOf: runs.appendingPathComponent(folder).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").filter { $0.contains("\"accuracy\"") }.count, 6, metrics)
    }

    func testLotteryTicketAndPruningAtInitTakeCIFAR() throws {
        let out = try run("lottery_ticket", ["iterations=10", "rounds=1", "reinit=false"])
        // LeNet-300-100 on 3x32x32 inputs: 3072-300-100-10, fc 20% and the output 10% a round.
        XCTAssertTrue(out.contains("     100.00"), out)
        XCTAssertTrue(out.contains("      80.01"), out)
        let sweep = try run("pruning_at_init", ["iterations=0", "max_alpha=1", "step=1", "synflow_rounds=2", "methods=[magnitude,synflow]"])
        XCTAssertTrue(sweep.contains("10^1.00"), sweep)
    }
}

/// A seeded generator for test data (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

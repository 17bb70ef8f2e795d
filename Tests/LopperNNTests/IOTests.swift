import XCTest
import Foundation
@testable import LopperNN
import LopperCore

final class IOTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try FileManager.default.removeItem(at: dir) }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testReadsFilesWrittenByOtherImplementations() throws {
        // Written by safetensors.numpy and np.save (make_fixtures.py).
        let (tensors, meta) = try Safetensors.load(fixtures.appendingPathComponent("reference.safetensors").path)
        let t = Dictionary(uniqueKeysWithValues: tensors)
        XCTAssertEqual(meta["written_by"], "safetensors.numpy")
        XCTAssertEqual(t["fc.weight"]?.shape, [3, 4])
        XCTAssertEqual(t["fc.weight"]?.toArray(), (0..<12).map { Float($0) / 8 - 0.5 })
        XCTAssertEqual(t["fc.bias"]?.toArray(), [0.25, -1.5, 3])
        XCTAssertEqual(t["bn.running_var"]?.toArray(), [1, 2])
        XCTAssertEqual(t["bn.num_batches_tracked"]?.shape, [])
        XCTAssertEqual(t["bn.num_batches_tracked"]?.toArray(), [7])
        XCTAssertEqual(t["mask"]?.toArray(), [1, 0, 0, 1])
        XCTAssertEqual(t["half"]?.toArray(), [1.5, -0.25, 65504])
        let npy = try Npy.load(fixtures.appendingPathComponent("reference.npy").path)
        XCTAssertEqual(npy.shape, [3, 4])
        XCTAssertEqual(npy.toArray(), (0..<12).map { Float($0) / 8 - 0.5 })
        XCTAssertEqual(try Npy.load(fixtures.appendingPathComponent("reference_f32.npy").path).shape, [1, 2, 3])
    }

    func testRoundTripsAndAtomicWrites() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let path = dir.appendingPathComponent("t.safetensors").path
        try Safetensors.save(path, [.init("a", a), .init("n", Tensor(scalar: 5), asInt64: true)], metadata: ["k": "v"])
        let (back, meta) = try Safetensors.load(path)
        XCTAssertEqual(back.map { $0.0 }, ["a", "n"])
        XCTAssertEqual(back[0].1.toArray(), a.toArray())
        XCTAssertEqual(meta, ["k": "v"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["t.safetensors"], "no temporary file left")
        let npy = dir.appendingPathComponent("t.npy").path
        try Npy.save(npy, a.transpose(0, 1))
        XCTAssertEqual(try Npy.load(npy).toArray(), [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(try Npy.load(npy).shape, [3, 2])
    }

    func testCorruptFilesGiveClearErrors() throws {
        let good = try Safetensors.encode([.init("w", try Tensor.ones([4]))])
        let cut = dir.appendingPathComponent("cut.safetensors").path
        try good.prefix(good.count - 3).write(to: URL(fileURLWithPath: cut))
        XCTAssertTrue(message { _ = try Safetensors.load(cut) }.contains("w claims bytes 0..<16 but the data section has 13 bytes"))
        var huge = good
        huge[0] = 0xFF; huge[5] = 0x7F
        XCTAssertTrue(message { _ = try Safetensors.decode(huge, source: "x") }.contains("the header claims"))
        XCTAssertTrue(message { _ = try Safetensors.decode(Data([1, 2]), source: "x") }.contains("fewer than the 8-byte header length"))
        XCTAssertTrue(message { _ = try Safetensors.load("/no/such.safetensors") }.contains("load: no file at /no/such.safetensors"))
        XCTAssertTrue(message { _ = try Npy.decode(Data("nonsense".utf8), source: "x") }.contains("magic string"))
        XCTAssertTrue(message { try Safetensors.save("/no/dir/x.safetensors", []) }.contains("folder /no/dir does not exist"))
    }

    func testCheckpointRestoresModelOptimizerAndRandomState() throws {
        RandomGenerator.shared.reseed(11)
        let net = try Zoo.build("lenet_300_100")
        let opt = try Adam(net.namedParameters(), lr: 1e-3)
        let x = try Tensor.randn([4, 784]), y = try Tensor(shape: [4], values: [1, 2, 3, 4])
        for _ in 0..<2 {
            opt.zeroGrad()
            try net.forward(x).crossEntropy(y).backward()
            try opt.step()
        }
        let path = dir.appendingPathComponent("ck.safetensors").path
        try Checkpoint.save(path, net: net, optimizer: opt, rng: .shared, metadata: ["epoch": "2"])
        let expectedDraw = RandomGenerator.shared.next()

        RandomGenerator.shared.reseed(99)
        let net2 = try Zoo.build("lenet_300_100")
        let opt2 = try Adam(net2.namedParameters(), lr: 1e-3)
        let meta = try Checkpoint.load(path, net: net2, optimizer: opt2, rng: .shared)
        XCTAssertEqual(meta, ["epoch": "2"])
        XCTAssertEqual(RandomGenerator.shared.next(), expectedDraw)
        XCTAssertEqual(opt2.iteration, 2)
        XCTAssertEqual(opt2.state[0]["exp_avg"]?.toArray(), opt.state[0]["exp_avg"]?.toArray())
        // One more identical step on both gives identical weights.
        for (n, o) in [(net, opt), (net2, opt2)] {
            o.zeroGrad()
            try n.forward(x).crossEntropy(y).backward()
            try o.step()
        }
        XCTAssertEqual(net.parameters()[0].toArray(), net2.parameters()[0].toArray())

        let other = try Zoo.build("lenet5")
        let msg = message { try Checkpoint.load(path, net: other) }
        XCTAssertTrue(msg.contains("checkpoint \(path): names do not match the model"), msg)
        let sgd = try SGD(net2.namedParameters(), lr: 0.1)
        XCTAssertTrue(message { try Checkpoint.load(path, net: nil, optimizer: sgd) }.contains("holds Adam state, the optimizer is SGD"))
    }
}

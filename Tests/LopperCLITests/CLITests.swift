import XCTest
import Foundation

/// Golden-output tests of the `lopper` executable, run as a user runs it.
/// The built `lopper` next to this test bundle.
var lopperBinary: URL {
    var dir = Bundle.main.bundleURL
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("lopper")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../.build/debug/lopper").standardized
}

/// Runs the built `lopper` and writes throwaway scripts.
class CLITestCase: XCTestCase {
    var binary: URL { lopperBinary }
    let runsDir = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-runs-\(getpid())").path

    struct Result { let status: Int32; let out: String; let err: String }

    func lopper(_ args: String..., stdin: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = binary
        // Runs leave their folders in a temporary directory, not in the package.
        p.arguments = args.first == "run" ? ["run", "--runs-dir", runsDir] + args.dropFirst() : args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "lopper died by a signal")
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func script(_ code: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-test-\(UUID().uuidString).lua")
        try code.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }
}

final class CLITests: CLITestCase {
    func testVersionAndHelp() throws {
        let v = try lopper("--version")
        XCTAssertEqual(v.status, 0)
        XCTAssertEqual(v.out, "0.1.0\n")
        let h = try lopper("help")
        XCTAssertEqual(h.status, 0)
        XCTAssertTrue(h.out.contains("run") && h.out.contains("eval"), h.out)
    }

    func testEvalPrintsResults() throws {
        let r = try lopper("eval", "lp.eye(2), 1 + 1")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "[[1 0]\n [0 1]]\n[Tensor of shape 2x2]\t2\n")
        let m = try lopper("eval", "local t = lp.randn(3,4); print(t:matmul(t:transpose(1,2)):shape()[1])")
        XCTAssertEqual(m.out, "3\n")
    }

    func testRunPassesSetValuesAndArguments() throws {
        let path = try script("""
            local cfg = lp.config{rounds = 1, lr = 0.1, arch = "lenet", levels = {1}}
            print(cfg.rounds, math.type(cfg.rounds), cfg.lr, cfg.arch, #cfg.levels, ...)
            """)
        let r = try lopper("run", path, "--set", "rounds=5", "--set", "lr=1e-3", "--set", "levels=[1,2,3]", "--", "a", "b")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "5\tinteger\t0.001\tlenet\t3\ta\tb\n")
    }

    func testScriptErrorsPrintPositionAndTraceback() throws {
        let path = try script("local x = 1\nlocal y = lp.zeros(3,4):matmul(lp.zeros(5,6))\n")
        let r = try lopper("run", path)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.hasPrefix("\(path):2: matmul: [3,4] and [5,6] do not align\nstack traceback:"), r.err)
    }

    func testBadInputsExitCleanly() throws {
        let missing = try lopper("run", "/no/such/recipe.lua")
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.err, "lopper: cannot open script '/no/such/recipe.lua': no such file\n")
        let syntax = try lopper("run", try script("local = 1"))
        XCTAssertEqual(syntax.status, 1)
        XCTAssertTrue(syntax.err.contains(":1: <name> expected near '='"), syntax.err)
        let badSet = try lopper("run", try script("lp.config{x=1}"), "--set", "x={1}")
        XCTAssertNotEqual(badSet.status, 0)
        XCTAssertTrue(badSet.err.contains("--set x: unknown value form '{1}'"), badSet.err)
        let unknownKey = try lopper("run", try script("lp.config{rounds=1}"), "--set", "rouns=2")
        XCTAssertEqual(unknownKey.status, 1)
        XCTAssertTrue(unknownKey.err.contains("config: unknown key 'rouns' (known keys: rounds)"), unknownKey.err)
        let unused = try lopper("run", try script("print('hi')"), "--set", "x=1")
        XCTAssertEqual(unused.status, 0)
        XCTAssertTrue(unused.err.contains("--set had no effect"), unused.err)
    }

    func testTensorTourRecipeRunsEndToEnd() throws {
        let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Recipes/tensor_tour.lua").standardized.path
        let r = try lopper("run", recipe, "--set", "density=0.05", "--set", "rows=30", "--set", "cols=40")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("kept 60 of 1200 weights (5.0%)"), r.out)
        XCTAssertTrue(r.out.contains("hidden activations 60x30"), r.out)
    }

    func testHandWrittenTrainingLoopLearns() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist not installed")
        let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Recipes/mlp_by_hand.lua").standardized.path
        let r = try lopper("run", recipe, "--set", "limit=3000")
        XCTAssertEqual(r.status, 0, r.err)
        // 50 SGD steps take LeNet-300-100 well past chance (10%) on the test set.
        let accuracy = r.out.split(separator: " ").last.flatMap { Double($0.dropLast(2)) } ?? 0
        XCTAssertTrue(r.out.hasPrefix("trained on 3000 samples"), r.out)
        XCTAssertGreaterThan(accuracy, 60, r.out)
    }

    func testDenseRecipeTrainsBothModels() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist not installed")
        let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Recipes/dense.lua").standardized.path
        for model in ["lenet_300_100", "lenet5"] {
            let r = try lopper("run", recipe, "--set", "model=\(model)", "--set", "iterations=40", "--set", "seeds=2")
            XCTAssertEqual(r.status, 0, r.err)
            // 40 Adam steps per seed take either model well past chance (10%).
            let line = r.out.split(separator: "\n").last.map(String.init) ?? ""
            XCTAssertTrue(line.hasPrefix("\(model), adam lr"), r.out)
            let accuracy = line.split(separator: " ").dropLast(3).last.flatMap { Double($0.dropLast()) } ?? 0
            XCTAssertGreaterThan(accuracy, 55, r.out)
            XCTAssertTrue(line.hasSuffix("over 2 seed(s)"), line)
        }
    }
}

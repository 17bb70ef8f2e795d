import XCTest
import Foundation

/// `lp.cell`: results cached across runs, keyed by code, settings read and earlier cells.
final class CellTests: CLITestCase {
    let recipe = """
    local cfg = lp.config{scale = 2.0, n = 3, label = "x"}
    local net = lp.cell("build", function()
      lp.manual_seed(1)
      local net = lp.nn.Sequential{lp.nn.Linear(4, cfg.n), lp.nn.ReLU(), lp.nn.Linear(cfg.n, 2)}
      print("building")
      lp.log{stage = 1, value = 0.5}
      return net, {answer = 42, list = {1, 2.5, 1/0}, name = "net"}
    end)
    local t, masks = lp.cell("prune", function()
      lp.prune.prune(net, {score = "magnitude", amount = 0.5})
      print("pruning")
      return lp.randn{2, 2} * cfg.scale, lp.prune.masks(net)
    end)
    print(string.format("%s %.6f %.6f %.4f %s", cfg.label, t:sum():item(), lp.rand{1}:item(), masks:density(),
                        tostring(lp.prune.stats(net).nonzero)))
    """

    func lastLine(_ r: Result) -> String { r.out.split(separator: "\n").last.map(String.init) ?? "" }

    func testASecondRunTakesCellsFromTheCacheWithTheSameResults() throws {
        let path = try script(recipe)
        let first = try lopper("run", path)
        XCTAssertEqual(first.status, 0, first.err)
        XCTAssertTrue(first.out.contains("building") && first.out.contains("pruning"))
        let second = try lopper("run", path)
        XCTAssertEqual(second.status, 0, second.err)
        XCTAssertTrue(second.err.contains("cell 'build': cached") && second.err.contains("cell 'prune': cached"), second.err)
        // Replayed output, the same results, the same random state after the cells.
        XCTAssertTrue(second.out.contains("building") && second.out.contains("pruning"))
        XCTAssertEqual(lastLine(second), lastLine(first))
        // A setting only the last cell reads re-runs that cell alone.
        let third = try lopper("run", path, "--set", "scale=3.0")
        XCTAssertTrue(third.err.contains("cell 'build': cached") && !third.err.contains("cell 'prune': cached"), third.err)
        XCTAssertNotEqual(lastLine(third), lastLine(first))
        // A setting the first cell reads re-runs both; a setting no cell reads re-runs none.
        XCTAssertFalse(try lopper("run", path, "--set", "n=5").err.contains("cached"))
        let label = try lopper("run", path, "--set", "label=y")
        XCTAssertTrue(label.err.contains("cell 'prune': cached"), label.err)
        XCTAssertEqual(lastLine(label).dropFirst(), lastLine(first).dropFirst())
        // --fresh runs everything again.
        XCTAssertFalse(try lopper("run", path, "--fresh").err.contains("cached"))
    }

    func testEditingACellsCodeRunsItAgain() throws {
        let path = try script(recipe)
        XCTAssertEqual(try lopper("run", path).status, 0)
        try recipe.replacingOccurrences(of: "print(\"pruning\")", with: "print(\"pruning!\")")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let edited = try lopper("run", path)
        XCTAssertTrue(edited.err.contains("cell 'build': cached") && !edited.err.contains("cell 'prune': cached"), edited.err)
        XCTAssertTrue(edited.out.contains("pruning!"))
    }

    func testCellMistakesAreClearErrors() throws {
        let cases: [(String, String)] = [
            ("lp.cell('a', function() return lp.optim.SGD(lp.nn.Linear(2, 2), {lr = 1}) end)",
             "cell 'a': cannot cache a lopper.Optimizer among its results"),
            ("lp.cell('a', function() return 1 end); lp.cell('a', function() return 2 end)", "the name 'a' is used twice"),
            ("lp.cell('a', function() lp.cell('b', function() end) end)", "'b' starts inside cell 'a'; cells do not nest"),
            ("lp.cell(function() end)", "cell: expected a name (string) first, got function"),
            // An optimizer shared by cells: its momentum would not come back on a cache hit.
            ("local opt = lp.optim.SGD(lp.nn.Linear(2, 2), {lr = 1, momentum = 0.9}); lp.cell('a', function() opt:step() end)",
             "cell 'a': it reaches Optimizer 'opt' through an upvalue, whose state a cache hit cannot restore"),
        ]
        for (code, message) in cases {
            let path = try script(code)
            // The same with and without a run folder (and so without a cache).
            for r in [try lopper("run", path), try lopper("run", path, "--no-run-folder")] {
                XCTAssertEqual(r.status, 1, code)
                XCTAssertTrue(r.err.contains(message), "\(code): \(r.err)")
            }
        }
    }

    func testADamagedCacheEntryIsAClearError() throws {
        let path = try script("local x = lp.cell('numbers', function() return {1, 2} end)\nprint(x[2])")
        XCTAssertEqual(try lopper("run", path).out, "2\n")
        let cache = runsDir + "/.cache"
        for entry in try FileManager.default.contentsOfDirectory(atPath: cache) where !entry.hasSuffix(".reads") {
            try "return {".write(toFile: cache + "/" + entry + "/cell.lua", atomically: true, encoding: .utf8)
        }
        let r = try lopper("run", path)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("cell 'numbers': the cache entry") && r.err.contains("is unreadable") && r.err.contains("--fresh"), r.err)
        XCTAssertEqual(try lopper("run", path, "--fresh").out, "2\n")
    }

    func testAFlippedBitInACacheEntryIsCaught() throws {
        let path = try script("local x = lp.cell('t', function() lp.manual_seed(3); return lp.randn(4) end)\nprint(x:sum():item())")
        let first = try lopper("run", path)
        XCTAssertEqual(first.status, 0, first.err)
        let cache = runsDir + "/.cache"
        for entry in try FileManager.default.contentsOfDirectory(atPath: cache) where !entry.hasSuffix(".reads") {
            // One bit of one tensor value: the file still parses, the value would differ.
            let file = cache + "/" + entry + "/tensors.safetensors"
            guard FileManager.default.fileExists(atPath: file) else { continue }
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            bytes[bytes.count - 2] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: file))
        }
        let r = try lopper("run", path)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("tensors.safetensors does not match its checksum (damaged)") && r.err.contains("--fresh"), r.err)
        XCTAssertEqual(try lopper("run", path, "--fresh").out, first.out)
    }
}

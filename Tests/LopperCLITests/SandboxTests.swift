import XCTest
import Foundation

/// `lopper run --sandbox`: every escape a recipe might try is refused with an error that
/// names the rule, and what a recipe needs (its run folder, its own modules, data roots)
/// still works.
final class SandboxTests: CLITestCase {
    /// A folder of its own for the script, so its readable folder holds nothing else.
    func sandboxedScript(_ code: String) throws -> (path: String, dir: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-sandbox-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try code.write(toFile: dir + "/recipe.lua", atomically: true, encoding: .utf8)
        return (dir + "/recipe.lua", dir)
    }

    func testEveryEscapeIsRefusedWithTheRuleThatRefusedIt() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-outside-\(UUID().uuidString)").path
        try "secret".write(toFile: outside, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: outside) }
        let (path, dir) = try sandboxedScript("""
        local outside = ...
        local function try(label, f, ...)
          local ok, err = pcall(f, ...)
          print(label .. ": " .. (ok and "allowed" or tostring(err)))
        end
        try("execute", os.execute, "true")
        try("popen", io.popen, "ls")
        try("loadlib", function() return package.loadlib("libc.so.6", "puts") end)
        try("exit", os.exit, 3)
        try("debug", function() return debug.getinfo(1) end)
        try("require debug", require, "debug")
        try("read outside", function() return io.open(outside):read("a") end)
        try("read passwd", io.open, "/etc/passwd")
        try("lines", io.lines, "/etc/passwd")
        try("write outside", io.open, outside .. ".new", "w")
        try("write dotdot", io.open, lp.run.dir .. "/../../escape.txt", "w")
        try("symlink", function() return io.open(lp.run.dir .. "/../../link-out") end)
        try("remove", os.remove, outside)
        try("rename", os.rename, outside, outside .. ".moved")
        try("loadfile", loadfile, "/etc/passwd")
        try("dofile", dofile, "/etc/passwd")
        try("lp.save outside", lp.save, outside .. ".safetensors", {w = lp.ones(2)})
        try("lp.load outside", lp.load, "/etc/passwd")
        try("save_npy outside", lp.save_npy, outside .. ".npy", lp.ones(2))
        try("raise limit", lp.set_memory_limit, "100T")
        try("lua memory", string.rep, "x", 1 << 30)
        try("start run", lp._start_run, {dir = "/etc", script = "x.lua"})
        try("render report", lp._render_report, "/etc")
        local real = lp.run.dir
        lp.run.dir = "/etc"
        try("log after moving lp.run.dir", lp.log, {x = 1})
        lp.run.dir = real
        try("write run folder", function() local f = assert(io.open(lp.run.dir .. "/mine.txt", "w")); f:write("ok"); f:close() end)
        try("save run folder", lp.save, lp.run.dir .. "/w.safetensors", {w = lp.ones(2)})
        package.path = arg[0]:match("(.*/)") .. "?.lua;" .. package.path
        try("require beside", function() return require("helper").answer end)
        """)
        try "return {answer = 42}".write(toFile: dir + "/helper.lua", atomically: true, encoding: .utf8)
        // A link inside the readable folder that points outside it.
        try FileManager.default.createSymbolicLink(atPath: dir + "/link-out", withDestinationPath: outside)
        let r = try lopper("run", "--sandbox", "--runs-dir", dir + "/runs", "--name", "x", path, "--", outside)
        XCTAssertEqual(r.status, 0, r.err)
        let lines = Dictionary(uniqueKeysWithValues: r.out.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let c = line.range(of: ": ") else { return nil }
            return (String(line[..<c.lowerBound]), String(line[c.upperBound...]))
        })
        let refused: [(String, String)] = [
            ("execute", "os.execute: sandbox: running other programs is not allowed"),
            ("popen", "io.popen: sandbox: running other programs is not allowed"),
            ("loadlib", "package.loadlib: sandbox: loading native code is not allowed"),
            ("exit", "os.exit: sandbox: ending the host is not allowed"),
            ("debug", "attempt to index a nil value (global 'debug')"),
            ("require debug", "module 'debug' not found"),
            ("read outside", "io.open: sandbox: \(outside) is outside the allowed folders"),
            ("read passwd", "io.open: sandbox: /etc/passwd is outside the allowed folders"),
            ("lines", "io.lines: sandbox: /etc/passwd is outside"),
            ("write outside", "io.open: sandbox: \(outside).new is outside the allowed folders (the sandbox allows writes only inside"),
            ("write dotdot", "io.open: sandbox:"),
            ("symlink", "io.open: sandbox:"),
            ("remove", "os.remove: sandbox:"),
            ("rename", "os.rename: sandbox:"),
            ("loadfile", "loadfile: sandbox: /etc/passwd is outside"),
            ("dofile", "loadfile: sandbox: /etc/passwd is outside"),
            ("lp.save outside", "save: sandbox:"),
            ("lp.load outside", "load: sandbox: /etc/passwd is outside"),
            ("save_npy outside", "save_npy: sandbox:"),
            ("raise limit", "set_memory_limit: sandbox: the memory limit cannot be raised above"),
            ("lua memory", "not enough memory"),
            ("start run", "_start_run: sandbox: /etc/config.json is outside"),
            ("render report", "_render_report: sandbox: /etc/report.html is outside"),
        ]
        for (label, fragment) in refused {
            XCTAssertTrue(lines[label]?.contains(fragment) == true, "\(label): \(lines[label] ?? "missing") lacks \(fragment)")
        }
        for label in ["write run folder", "save run folder", "log after moving lp.run.dir"] { XCTAssertEqual(lines[label], "allowed", label) }
        // The record went to the real run folder.
        XCTAssertTrue(try String(contentsOfFile: dir + "/runs/x/metrics.jsonl", encoding: .utf8).contains("\"x\":1"))
        XCTAssertTrue(lines["require beside"]?.contains("allowed") == true, lines["require beside"] ?? "missing")
        XCTAssertEqual(try String(contentsOfFile: outside, encoding: .utf8), "secret", "the outside file is untouched")
        XCTAssertFalse(FileManager.default.fileExists(atPath: outside + ".new"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/escape.txt"))
    }

    func testTimeLimitStopsLuaLoopsAndNativeTraining() throws {
        let (loop, _) = try sandboxedScript("local i = 0; while true do i = i + 1 end")
        let t0 = Date()
        let r = try lopper("run", "--sandbox", "--time-limit", "1", "--no-run-folder", loop)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("time limit: the script ran past --time-limit 1 s"), r.err)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 20)
        // Inside a coroutine too, and without the sandbox.
        let (co, _) = try sandboxedScript("coroutine.wrap(function() while true do end end)()")
        XCTAssertTrue(try lopper("run", "--time-limit", "1", "--no-run-folder", co).err.contains("time limit"))
        // A native loop of pruning rounds stops at its next round.
        let (prune, _) = try sandboxedScript("lp.prune.prune(lp.models.lenet_300_100(), {score = 'magnitude', iterations = 1 << 40, density = 0.5})")
        let p = try lopper("run", "--time-limit", "1", "--no-run-folder", prune)
        XCTAssertEqual(p.status, 1)
        XCTAssertTrue(p.err.contains("prune: time limit: the script ran past --time-limit 1 s at round"), p.err)
        // And native training at its next step.
        let (train, _) = try sandboxedScript("""
        local net = lp.models.lenet_300_100()
        local data = lp.data.fashion_mnist{split = "test"}
        lp.train{net = net, data = data, optimizer = lp.optim.SGD(net, {lr = 0.1}), iterations = 10000000}
        """)
        let t = try lopper("run", "--time-limit", "2", "--no-run-folder", train)
        XCTAssertEqual(t.status, 1)
        XCTAssertTrue(t.err.contains("train: time limit: the script ran past --time-limit 2 s at step"), t.err)
    }

    func testMemoryLimitOption() throws {
        let (path, _) = try sandboxedScript("local ok, err = pcall(lp.zeros, 4096, 4096); print(err)")
        let r = try lopper("run", "--memory-limit", "32M", "--no-run-folder", path)
        XCTAssertTrue(r.out.contains("zeros: a [4096,4096] tensor needs 64 MiB, more than the 32 MiB tensor budget"), r.out + r.err)
        XCTAssertTrue(try lopper("run", "--memory-limit", "lots", path).err.contains("--memory-limit: expected a size"))
    }
}

import XCTest
import Foundation

/// Stopped runs: SIGKILL then --resume gives the uninterrupted result; Ctrl-C stops
/// cleanly and says how to resume; damaged folders and missing cache entries are errors.
final class ResumeTests: CLITestCase {
    var recipe: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Recipes/lottery_ticket.lua").standardized.path
    }

    /// Starts `lopper run` and returns the process (output to files in the run folder's parent).
    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["run", "--runs-dir", runsDir] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Waits until `file` has at least `lines` lines.
    func wait(for file: String, lines: Int, timeout: Double = 300) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), text.split(separator: "\n").count >= lines { return }
            usleep(20_000)
        }
        XCTFail("\(file) never reached \(lines) lines")
    }

    /// The rows of the recipe's final table (the last line of tables.jsonl).
    func finalRows(_ dir: String) throws -> [[String]] {
        let last = try String(contentsOfFile: dir + "/tables.jsonl", encoding: .utf8).split(separator: "\n").last ?? ""
        let table = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        return table?["rows"] as? [[String]] ?? []
    }

    func testARunKilledMidRoundResumesToTheSameResults() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist not installed")
        let settings = ["--set", "iterations=40", "--set", "rounds=3"]
        let reference = try lopper("run", recipe, "--name", "whole", "--fresh", "--quiet", "--set", "iterations=40", "--set", "rounds=3")
        XCTAssertEqual(reference.status, 0, reference.err)
        // Same recipe and settings, killed while round 1 trains (the rewind point and round 0 are done).
        let p = try start([recipe, "--name", "killed", "--fresh"] + settings)
        try wait(for: runsDir + "/killed/cells.jsonl", lines: 2)
        usleep(100_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        let cellsBefore = try String(contentsOfFile: runsDir + "/killed/cells.jsonl", encoding: .utf8).split(separator: "\n").count
        XCTAssertLessThan(cellsBefore, 5, "the run finished before the kill")
        let resumed = try lopper("run", "--resume", runsDir + "/killed", "--quiet")
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("cell 'seed 1 round 0': cached"), resumed.err)
        let rows = try finalRows(runsDir + "/killed")
        XCTAssertEqual(rows.count, 4, "\(rows)")
        XCTAssertEqual(rows, try finalRows(runsDir + "/whole"))
        // The rebuilt records match an uninterrupted run's, one per arm and round.
        let metrics = { (dir: String) in try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").count }
        XCTAssertEqual(try metrics(runsDir + "/killed"), 7)
        XCTAssertEqual(try metrics(runsDir + "/whole"), 7)
        // A finished run has nothing to resume.
        let again = try lopper("run", "--resume", runsDir + "/killed")
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.err.contains("finished; there is nothing to resume"), again.err)
    }

    func testCtrlCStopsAtTheNextStepAndSaysHowToResume() throws {
        let path = try script("""
        lp.cell("first", function() return 1 end)
        while true do end
        """)
        let p = try start([path, "--name", "stopped"])
        try wait(for: runsDir + "/stopped/cells.jsonl", lines: 1)
        usleep(100_000)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 130)
        let status = try String(contentsOfFile: runsDir + "/stopped/status.json", encoding: .utf8)
        XCTAssertTrue(status.contains("\"stopped\""), status)
        XCTAssertTrue(try String(contentsOfFile: runsDir + "/stopped/output.log", encoding: .utf8).contains("interrupted (Ctrl-C)"))
    }

    /// Loops a script hides from the interrupt: inside a coroutine, and a loop of pcall
    /// that would swallow one error; without a run folder the exit status is 130 too.
    func testCtrlCStopsCoroutinesAndPcallLoops() throws {
        for (label, code) in [("coroutine", "coroutine.wrap(function() while true do end end)()"),
                              ("pcall", "local function f() for i = 1, 1e6 do end end; while true do pcall(f) end")] {
            let marker = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-ready-\(UUID().uuidString)").path
            let path = try script("local f = io.open('\(marker)', 'w'); f:write('ready\\n'); f:close()\n" + code)
            let p = try start([path, "--no-run-folder"])
            try wait(for: marker, lines: 1)
            usleep(200_000)
            kill(p.processIdentifier, SIGINT)
            let deadline = Date().addingTimeInterval(20)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL); XCTFail("\(label): Ctrl-C did not stop the loop") }
            p.waitUntilExit()
            try? FileManager.default.removeItem(atPath: marker)
            XCTAssertEqual(p.terminationReason, .exit, label)
            XCTAssertEqual(p.terminationStatus, 130, label)
        }
    }

    func testCtrlCStopsNativeTrainingAtAStep() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist not installed")
        let path = try script("""
        local net = lp.models.lenet_300_100()
        local data = lp.data.fashion_mnist{}
        lp.cell("ready", function() return 1 end)
        lp.train{net = net, data = data, optimizer = lp.optim.SGD(net, {lr = 0.1}), iterations = 10000000}
        """)
        let p = try start([path, "--name", "training"])
        try wait(for: runsDir + "/training/cells.jsonl", lines: 1)
        usleep(300_000)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        let log = try String(contentsOfFile: runsDir + "/training/output.log", encoding: .utf8)
        XCTAssertTrue(log.contains("interrupted (Ctrl-C)") && log.contains("lopper.train"), log)
    }

    func testResumeErrorsNameWhatIsWrong() throws {
        let missing = try lopper("run", "--resume", runsDir + "/nothing-here")
        XCTAssertTrue(missing.err.contains("no run folder"), missing.err)
        let damaged = runsDir + "/damaged"
        try FileManager.default.createDirectory(atPath: damaged, withIntermediateDirectories: true)
        try "{oops".write(toFile: damaged + "/config.json", atomically: true, encoding: .utf8)
        let r = try lopper("run", "--resume", damaged)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("is not a run folder or is damaged: config.json"), r.err)
        // A finished cell whose cache entry was deleted.
        let path = try script("lp.cell('one', function() return 1 end)\nerror('crash')")
        XCTAssertEqual(try lopper("run", path, "--name", "crashed").status, 1)
        try FileManager.default.removeItem(atPath: runsDir + "/.cache")
        let gone = try lopper("run", "--resume", runsDir + "/crashed")
        XCTAssertEqual(gone.status, 1)
        XCTAssertTrue(gone.err.contains("cell 'one' finished before the stop, but its cache entry"), gone.err)
        XCTAssertTrue(try lopper("run", "--resume", runsDir + "/crashed", "--set", "a=1").err.contains("--set is not allowed"))
    }
}

import XCTest
import Foundation

/// `lopper sweep` with the local backend: every point a run folder, the merged report,
/// failures that stop nothing (or everything, with --fail-fast), Ctrl-C and SIGKILL then
/// --resume to the uninterrupted result, and bad grids refused with the setting named.
/// (The Slurm backend runs against a real Slurm in Scripts/test-slurm.)
final class SweepTests: CLITestCase {
    /// A recipe whose metric is known in closed form: accuracy = 50 + 10·density·(2 for a, 1 for b) + seed.
    let tiny = """
    local cfg = lp.config{
      method = "a",      -- a or b
      density = 0.5,
      seed = 1,
      fail = "",         -- a method that raises
      steps = 2,
      busy = 0.0,        -- seconds of work a step
    }
    if cfg.method == cfg.fail then error("asked to fail") end
    for i = 1, cfg.steps do
      lp.cell("step " .. i, function()
        local t = os.clock()
        while os.clock() - t < cfg.busy do end
        lp.log{step = i, remaining = 100 * cfg.density,
               accuracy = 50 + 10 * cfg.density * (cfg.method == "a" and 2 or 1) + cfg.seed}
      end)
    end
    """

    var sweeps: String { runsDir + "/sweeps" }

    /// `lopper sweep args`, with only `path` on PATH if given (no Slurm, a stand-in sbatch).
    func sweep(_ args: [String], path: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["sweep"] + args
        if let path { p.environment = ["PATH": path] }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "lopper sweep died by a signal")
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func manifest(_ folder: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/sweep.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func states(_ folder: String) throws -> [String] {
        (try manifest(folder)["points"] as? [[String: Any]] ?? []).map { $0["state"] as? String ?? "?" }
    }

    /// The results table of report.md (header to the blank line after it).
    func resultsTable(_ folder: String) throws -> String {
        let md = try String(contentsOfFile: folder + "/report.md", encoding: .utf8)
        guard let start = md.range(of: "| method |") else { return "" }
        return String(md[start.lowerBound...].prefix { $0 != "#" }).components(separatedBy: "\n\n")[0]
    }

    func testEveryPointIsARunFolderAndTheReportAveragesOverSeeds() throws {
        let recipe = try script(tiny)
        let r = try sweep([recipe, "--grid", "method=a,b", "--grid", "density=0.1,0.01", "--grid", "seed=1,2",
                           "--jobs", "2", "--runs-dir", sweeps, "--name", "grid"])
        XCTAssertEqual(r.status, 0, r.err)
        let folder = sweeps + "/grid"
        XCTAssertEqual(try states(folder), Array(repeating: "finished", count: 8))
        let names = (try manifest(folder)["points"] as? [[String: Any]] ?? []).map { $0["name"] as? String ?? "" }
        XCTAssertEqual(names.first, "method=a,density=0.1,seed=1")
        XCTAssertEqual(names.last, "method=b,density=0.01,seed=2")
        for name in names {
            let status = try String(contentsOfFile: folder + "/" + name + "/status.json", encoding: .utf8)
            XCTAssertTrue(status.contains("finished"), name)
            let config = try String(contentsOfFile: folder + "/" + name + "/config.json", encoding: .utf8)
            XCTAssertTrue(config.contains("\"seed\":" + String(name.last!)), config)
        }
        // accuracy = 50 + 10·density·k + seed: the mean over seeds 1, 2 adds 1.5, the std is 0.71.
        let table = try resultsTable(folder)
        XCTAssertTrue(table.contains("| a | 0.01 | 2 | 51.7 ± 0.71 | 1 ± 0 |"), table)
        XCTAssertTrue(table.contains("| a | 0.1 | 2 | 53.5 ± 0.71 | 10 ± 0 |"), table)
        XCTAssertTrue(table.contains("| b | 0.1 | 2 | 52.5 ± 0.71 | 10 ± 0 |"), table)
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("accuracy against density, mean ± std over seed"), html)
        XCTAssertTrue(html.contains("href=\"method=a,density=0.1,seed=1/report.html\""))
        // lopper report renders the same page again.
        try FileManager.default.removeItem(atPath: folder + "/report.md")
        XCTAssertEqual(try lopper("report", folder).status, 0)
        XCTAssertEqual(try resultsTable(folder), table)
    }

    func testAFailedPointStopsNothingUnlessFailFast() throws {
        let recipe = try script(tiny)
        let r = try sweep([recipe, "--grid", "method=a,b", "--grid", "seed=1,2", "--set", "fail=b", "--runs-dir", sweeps, "--name", "failing"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(try states(sweeps + "/failing"), ["finished", "finished", "failed", "failed"])
        XCTAssertTrue(r.err.contains("method=b,seed=1: failed in"), r.err)
        XCTAssertTrue(r.err.contains("asked to fail"), r.err)
        XCTAssertTrue(r.err.contains("lopper sweep --resume " + sweeps + "/failing"), r.err)
        let md = try String(contentsOfFile: sweeps + "/failing/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("| 2 | method=b,seed=1 | failed |"), md)
        XCTAssertTrue(md.contains(".lua:9: asked to fail |"), md)

        let ff = try sweep([recipe, "--grid", "method=b,a", "--grid", "seed=1,2", "--set", "fail=b", "--jobs", "1",
                            "--fail-fast", "--runs-dir", sweeps, "--name", "fast"])
        XCTAssertEqual(ff.status, 1)
        XCTAssertEqual(try states(sweeps + "/fast"), ["failed", "waiting", "waiting", "waiting"])
        XCTAssertTrue(ff.err.contains("--fail-fast"), ff.err)
    }

    /// Starts a sweep in the background; returns the process.
    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["sweep"] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func waitUntil(_ what: String, timeout: Double = 120, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline { if condition() { return }; usleep(50_000) }
        XCTFail("timed out waiting until \(what)")
    }

    func testASweepKilledMidwayResumesToTheUninterruptedReport() throws {
        let recipe = try script(tiny)
        let grid = ["--grid", "method=a,b", "--grid", "seed=1,2", "--set", "steps=4", "--set", "busy=0.15", "--jobs", "1", "--runs-dir", sweeps]
        XCTAssertEqual(try sweep([recipe, "--name", "whole"] + grid).status, 0)
        let p = try start([recipe, "--name", "killed"] + grid)
        let folder = sweeps + "/killed"
        // Killed (the sweep and the point it runs) once a point has finished and the next is in its cells.
        waitUntil("the second point has a finished cell") {
            ((try? String(contentsOfFile: folder + "/method=a,seed=2/cells.jsonl", encoding: .utf8)) ?? "").contains("step 1")
        }
        let running = (try manifest(folder)["points"] as? [[String: Any]] ?? []).compactMap { ($0["pid"] as? Int).map(Int32.init) }
        kill(p.processIdentifier, SIGKILL)
        for pid in running { kill(-pid, SIGKILL) }
        p.waitUntilExit()
        XCTAssertEqual(try states(folder).filter { $0 == "finished" }.count, 1)
        let status = try sweep(["--status", folder])
        XCTAssertEqual(status.status, 1)
        XCTAssertTrue(status.out.contains("1  method=a,seed=2  stopped"), status.out)
        let resumed = try sweep(["--resume", folder])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("3 of 4 points to run"), resumed.err)
        XCTAssertTrue(try String(contentsOfFile: folder + "/logs/1.log", encoding: .utf8).contains("cell 'step 1': cached"))
        XCTAssertEqual(try states(folder), Array(repeating: "finished", count: 4))
        XCTAssertFalse(try resultsTable(folder).isEmpty)
        XCTAssertEqual(try resultsTable(folder), try resultsTable(sweeps + "/whole"))
    }

    func testCtrlCStopsEveryPointAndResumeFinishesThem() throws {
        let recipe = try script(tiny)
        let p = try start([recipe, "--grid", "method=a,b", "--grid", "seed=1,2", "--set", "steps=20", "--set", "busy=0.1",
                           "--jobs", "2", "--runs-dir", sweeps, "--name", "interrupted"])
        let folder = sweeps + "/interrupted"
        waitUntil("two points run") { FileManager.default.fileExists(atPath: folder + "/method=a,seed=2/cells.jsonl") }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertEqual(try states(folder), ["stopped", "stopped", "waiting", "waiting"])
        let status = try String(contentsOfFile: folder + "/method=a,seed=1/status.json", encoding: .utf8)
        XCTAssertTrue(status.contains("stopped"), status)
        let resumed = try sweep(["--resume", folder, "--jobs", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertEqual(try states(folder), Array(repeating: "finished", count: 4))
    }

    func testZipPairsAxesAndDryRunListsThePoints() throws {
        let recipe = try script(tiny)
        let nowhere = runsDir + "/dry-\(UUID().uuidString)"
        let r = try sweep([recipe, "--grid", "method=a,b", "--zip", "density=0.1,0.01", "--zip", "seed=1,2", "--dry-run", "--runs-dir", nowhere])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, """
        4 points, 2 at a time, 1 thread(s) each:
          0  method=a,density=0.1,seed=1
          1  method=a,density=0.01,seed=2
          2  method=b,density=0.1,seed=1
          3  method=b,density=0.01,seed=2

        """.replacingOccurrences(of: "2 at a time", with: "\(ProcessInfo.processInfo.activeProcessorCount) at a time"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: nowhere), "--dry-run created folders")
    }

    func testASweepFileIsTheCommandLineWrittenDown() throws {
        let recipe = try script(tiny)
        let dir = runsDir + "/sweep-files"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/figure.lua"
        try """
        -- The figure of the tiny recipe.
        sweep{
          recipe = "\(recipe)",
          grid = {"method=a,b", {"seed", 1, 2}},
          set = {steps = 1},
          name = "from_file", runs_dir = "\(sweeps)",
          slurm = {partition = "cpu", time = "1:00:00", cpus_per_task = 2},
        }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let dry = try sweep([file, "--dry-run", "--slurm"])
        XCTAssertEqual(dry.status, 0, dry.err)
        XCTAssertTrue(dry.out.hasPrefix("4 points, one Slurm array task each, 2 thread(s) each:\n  0  method=a,seed=1\n"), dry.out)
        for line in ["#SBATCH --output=\(sweeps)/from_file/logs/%a.log", "#SBATCH --partition=cpu", "#SBATCH --time=1:00:00",
                     "#SBATCH --cpus-per-task=2", "sweep --task \(sweeps)/from_file"] {
            XCTAssertTrue(dry.out.contains(line), "no '\(line)' in: \(dry.out)")
        }
        let r = try sweep([file, "--grid", "density=0.1,0.2"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try states(sweeps + "/from_file").count, 8, "the command line's axis multiplies the file's")
        XCTAssertTrue(try String(contentsOfFile: sweeps + "/from_file/sweep.json", encoding: .utf8).contains("\"steps=1\""))

        try #"sweep{recipe = "x.lua", grids = {}}"#.write(toFile: dir + "/typo.lua", atomically: true, encoding: .utf8)
        let typo = try sweep([dir + "/typo.lua"])
        XCTAssertEqual(typo.status, 1)
        XCTAssertTrue(typo.err.contains("sweep{…}: unknown key 'grids' (known: recipe, grid, zip, set"), typo.err)
        try "sweep{recipe = \"x.lua\", grid = {\"seed=1\"}}\nos.execute(\"true\")\n".write(toFile: dir + "/shell.lua", atomically: true, encoding: .utf8)
        let shell = try sweep([dir + "/shell.lua"])
        XCTAssertEqual(shell.status, 1)
        XCTAssertTrue(shell.err.contains("running other programs is not allowed"), shell.err)
    }

    func testBadGridsAreRefusedWithTheSettingNamed() throws {
        let recipe = try script(tiny)
        func refused(_ args: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try sweep(args + ["--runs-dir", sweeps])
            XCTAssertNotEqual(r.status, 0, file: file, line: line)
            XCTAssertTrue(r.err.contains(message), "expected '\(message)' in: \(r.err)", file: file, line: line)
        }
        try refused([recipe, "--grid", "methd=a,b"], "--grid methd: \(recipe) declares no setting 'methd' (its settings: method, density, seed, fail, steps, busy)")
        try refused([recipe, "--grid", "seed=1,two"], "--grid seed=two: \(recipe) declares seed = 1, an integer; got a string")
        try refused([recipe, "--grid", "seed"], "--grid expects key=value1,value2,…, got 'seed'")
        try refused([recipe, "--grid", "seed=1,1"], "--grid seed: the value 1 is given twice")
        try refused([recipe, "--grid", "seed=1,2", "--grid", "seed=3"], "the setting 'seed' is swept twice")
        try refused([recipe, "--zip", "seed=1,2", "--zip", "density=0.1"], "--zip axes must have as many values each: seed has 2, density has 1")
        try refused([recipe, "--grid", "seed=1,2", "--set", "seed=3"], "--set seed is also a grid axis")
        try refused([recipe, "--grid", "seed=1,2", "--set", "bogus=3"], "--set bogus: \(recipe) declares no setting 'bogus'")
        try refused([recipe, "--grid", "seed=1,2", "--over", "method"], "--over method: not a grid axis (the axes: seed)")
        try refused([recipe, "--grid", "seed=1,2", "--partition", "gpu"], "are Slurm options: add --slurm")
        try refused([recipe], "expected at least one --grid or --zip axis")
        try refused(["nowhere.lua", "--grid", "seed=1"], "no recipe 'nowhere.lua'")
        try refused(["--resume", runsDir + "/none"], "is not a sweep folder: it has no sweep.json")
        let bare = try script("print(1)")
        try refused([bare, "--grid", "seed=1,2"], "declares no settings (no lp.config{…} block)")
        XCTAssertEqual(try sweep([recipe, "--grid", "seed=1", "--runs-dir", sweeps, "--name", "once"]).status, 0)
        try refused([recipe, "--grid", "seed=1", "--name", "once"], "exists already: continue it with `lopper sweep --resume")
        // No sbatch on PATH: the command is named, and no sweep folder is left behind.
        let none = try sweep([recipe, "--grid", "seed=1,2", "--slurm", "--runs-dir", sweeps, "--name", "nosbatch"], path: "/nonexistent")
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.err.contains("`sbatch` is not on PATH"), none.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sweeps + "/nosbatch"))
        // An sbatch that refuses the job: its exit status and output are quoted.
        let bin = runsDir + "/fake-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\necho 'sbatch: error: invalid partition specified: nosuch' >&2\nexit 1\n"
            .write(toFile: bin + "/sbatch", atomically: true, encoding: .utf8)
        chmod(bin + "/sbatch", 0o755)
        let refusedBySlurm = try sweep([recipe, "--grid", "seed=1,2", "--slurm", "--partition", "nosuch", "--runs-dir", sweeps,
                                        "--name", "refused"], path: bin)
        XCTAssertEqual(refusedBySlurm.status, 1)
        XCTAssertTrue(refusedBySlurm.err.contains("failed (exit status 1): sbatch: error: invalid partition specified: nosuch"), refusedBySlurm.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sweeps + "/refused"))
    }

    func testPruningAtInitSweepsOneMethodAndCompressionAPoint() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist not installed")
        let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Recipes/pruning_at_init.lua").standardized.path
        let r = try sweep([recipe, "--grid", "method=magnitude", "--grid", "compression=1,100", "--set", "iterations=0",
                           "--runs-dir", sweeps, "--name", "pai"])
        XCTAssertEqual(r.status, 0, r.err)
        let table = try resultsTable(sweeps + "/pai")
        XCTAssertTrue(table.contains("| method | compression | n | collapsed | remaining |"), table)
        XCTAssertTrue(table.contains("| magnitude | 1 | 1 | 0 | 100 |"), table)
        XCTAssertTrue(table.contains("| magnitude | 100 | 1 | "), table)
    }
}

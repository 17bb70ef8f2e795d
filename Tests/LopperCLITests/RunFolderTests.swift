import XCTest
import Foundation

/// `lopper run` leaves a run folder: config, metrics, output, checkpoints, report.
final class RunFolderTests: CLITestCase {
    func testARunLeavesItsRecord() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = try script("""
        local cfg = lp.config{rounds = 3, lr = 1e-3}
        for r = 1, cfg.rounds do
          print("round", r)
          lp.log{round = r, accuracy = 0.5 + r / 10}
        end
        lp.table{title = "results", columns = {"round", "acc"}, rows = {{1, 0.5}, {2, 0.75}}}
        lp.plot{title = "accuracy by round", x = "round", y = "accuracy"}
        """)
        for _ in 0..<2 {
            let r = try lopper("run", path, "--runs-dir", root, "--name", "demo", "--set", "rounds=2")
            XCTAssertEqual(r.status, 0, r.err)
        }
        // The second run with the same name gets a folder of its own.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), ["demo", "demo-2"])
        let dir = root + "/demo"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(files.filter { !$0.hasSuffix(".lua") }, ["checkpoints", "config.json", "metrics.jsonl", "output.log", "plots.jsonl", "report.html", "report.md", "status.json", "tables.jsonl"])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        XCTAssertEqual((config["settings"] as! [String: Any])["rounds"] as? Int, 2)
        XCTAssertEqual(config["set"] as? [String], ["rounds=2"])
        XCTAssertEqual((config["script_hash"] as? String)?.count, 16)
        XCTAssertEqual(config["seed"] as? Int, 0x5EED, "the generator's seed at the start")
        let metrics = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(metrics.count, 2)
        let first = try JSONSerialization.jsonObject(with: Data(metrics[0].utf8)) as! [String: Any]
        XCTAssertEqual(first["accuracy"] as? Double, 0.6)
        XCTAssertEqual(first["step"] as? Int, 1)
        XCTAssertTrue(try String(contentsOfFile: dir + "/output.log", encoding: .utf8).hasPrefix("round\t1\nround\t2\n"))
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("accuracy by round") && html.contains("<caption>results</caption>"), html)
        XCTAssertTrue(report.contains("finished") && report.contains("| rounds | 2 |") && report.contains("| 2 | 0.75 |"), report)
    }

    func testAFailedRunSaysSoInItsReport() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try lopper("run", try script("print('before')\nerror('boom')"), "--runs-dir", root, "--name", "bad")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(try String(contentsOfFile: root + "/bad/report.md", encoding: .utf8).contains("failed"))
        let log = try String(contentsOfFile: root + "/bad/output.log", encoding: .utf8)
        XCTAssertTrue(log.contains("before") && log.contains("boom"), log)
    }

    func testHelpListsTheRecipesSettings() throws {
        let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Recipes/lottery_ticket.lua").standardized.path
        let r = try lopper("run", recipe, "--help")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("  rounds = 8               pruning rounds after the dense run"), r.out)
        XCTAssertTrue(r.out.contains("  reinit_init = \"\"         initialiser of the control"), r.out)
        XCTAssertTrue(r.out.contains("--runs-dir"), r.out)
    }

    func testReportOverlaysRuns() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = try script("""
        local cfg = lp.config{seed = 1}
        for r = 0, 2 do lp.log{remaining = 100 * 0.8 ^ r, accuracy = 80 + r + cfg.seed, arm = "rewind"} end
        """)
        for seed in 1...3 { XCTAssertEqual(try lopper("run", path, "--runs-dir", root, "--name", "s\(seed)", "--set", "seed=\(seed)").status, 0) }
        let out = root + "/overlay.html"
        let r = try lopper("report", root + "/s1", root + "/s2", root + "/s3", "--output", out)
        XCTAssertEqual(r.status, 0, r.err)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(html.contains("rewind, mean of 3 runs") && html.contains("<polygon"), "mean and spread of three seeds")
        XCTAssertTrue(html.contains("<th>s1</th><th>s2</th><th>s3</th>"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/overlay.md"))
        // One run is rendered again in place; a folder that is not a run is an error.
        try FileManager.default.removeItem(atPath: root + "/s1/report.html")
        XCTAssertEqual(try lopper("report", root + "/s1").status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/s1/report.html"))
        let bad = try lopper("report", root)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("is not a run folder: it has no config.json"), bad.err)
    }
}

import XCTest
import Foundation
@testable import LopperReport

/// The merged report of a sweep, from a sweep.json and run folders written by hand: each
/// point's last value per metric, means and sample std over seeds, metrics split by a
/// record's text fields, x from a logged key, a text axis (table, no curves), damaged files.
final class SweepReportTests: XCTestCase {
    var root = ""
    override func setUp() { root = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)").path }
    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    /// A sweep of `grid` whose point `set` logs `records(set)`.
    func makeSweep(_ grid: [SweepManifest.Axis], x: String? = nil, over: String? = nil,
                   records: ([String]) -> [String]) throws -> String {
        var points: [SweepManifest.Point] = []
        var combos: [[String]] = [[]]
        for a in grid { combos = combos.flatMap { c in a.values.map { c + ["\(a.key)=\($0)"] } } }
        for (i, set) in combos.enumerated() {
            var p = SweepManifest.Point(index: i, name: set.joined(separator: ","), set: set)
            p.state = "finished"
            points.append(p)
            let dir = root + "/" + p.name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try #"{"recipe":"r","settings":{}}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
            try #"{"status":"finished"}"#.write(toFile: dir + "/status.json", atomically: true, encoding: .utf8)
            try (records(set).joined(separator: "\n") + "\n").write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        }
        let m = SweepManifest(name: "s", recipe: "r", script: "r.lua", created: "now", grid: grid, zip: [], set: [], x: x, over: over,
                              backend: "local", threads: 1, jobs: 2, points: points)
        try m.save(root)
        return root
    }

    func testMeansAndStdOverSeedsOfEachPointsLastValue() throws {
        let folder = try makeSweep([.init(key: "method", values: ["snip", "synflow"]), .init(key: "density", values: ["0.1", "0.01"]),
                                    .init(key: "seed", values: ["1", "2", "3"])]) { set in
            let seed = Double(set[2].dropFirst(5))!, density = Double(set[1].dropFirst(8))!
            let base = set[0].hasSuffix("snip") ? 80.0 : 85.0
            // An early record first: only the last value of each key counts.
            return [#"{"step":1,"accuracy":10}"#, #"{"step":2,"accuracy":\#(base + 10 * density + seed),"loss":\#(seed)}"#]
        }
        let results = try SweepResults(folder: folder, manifest: try SweepManifest.load(folder))
        XCTAssertEqual(results.xKey, "density")
        XCTAssertEqual(results.overKey, "seed")
        XCTAssertEqual(results.seriesKeys, ["method"])
        XCTAssertEqual(results.metrics, ["accuracy", "loss"])
        let t = results.table()
        XCTAssertEqual(t.columns, ["method", "density", "n", "accuracy", "loss"])
        // Seeds 1, 2, 3: mean + 2, sample std 1.
        XCTAssertEqual(t.rows, [["snip", "0.01", "3", "82.1 ± 1", "2 ± 1"], ["snip", "0.1", "3", "83 ± 1", "2 ± 1"],
                                ["synflow", "0.01", "3", "87.1 ± 1", "2 ± 1"], ["synflow", "0.1", "3", "88 ± 1", "2 ± 1"]])
        let charts = results.charts()
        XCTAssertEqual(charts.map(\.title), ["accuracy against density, mean ± std over seed", "loss against density, mean ± std over seed"])
        XCTAssertFalse(charts[0].logX, "0.01 … 0.1 spans less than 50×")
        let snip = charts[0].series[0]
        XCTAssertEqual(snip.name, "method=snip")
        XCTAssertEqual(snip.points.map(\.x), [0.01, 0.1])
        let low = snip.band?.map(\.low) ?? []
        XCTAssertEqual(low.count, 2)
        for (got, want) in zip(low, [81.1, 82.0]) { XCTAssertEqual(got, want, accuracy: 1e-9) }
        let report = try SweepReport(folder: folder)
        XCTAssertEqual(report.stateSummary, "12 finished")
        XCTAssertTrue(report.markdown().contains("| snip | 0.01 | 3 | 82.1 ± 1 | 2 ± 1 |"))
        XCTAssertTrue(report.html().contains("<svg"))
    }

    func testTextFieldsSplitMetricsAndXCanBeALoggedKey() throws {
        let folder = try makeSweep([.init(key: "rate", values: ["0.2", "0.5"]), .init(key: "seed", values: ["1", "2"])], x: "remaining") { set in
            let rate = Double(set[0].dropFirst(5))!
            return [#"{"remaining":\#(100 * (1 - rate)),"accuracy":90,"arm":"rewind"}"#,
                    #"{"remaining":\#(100 * (1 - rate)),"accuracy":70,"arm":"reinit"}"#]
        }
        let results = try SweepResults(folder: folder, manifest: try SweepManifest.load(folder))
        XCTAssertEqual(results.metrics, ["accuracy (arm=rewind)", "accuracy (arm=reinit)"])
        XCTAssertEqual(results.seriesKeys, ["rate"])
        XCTAssertEqual(results.groups.map(\.x), [80, 50])
        XCTAssertEqual(results.table().rows, [["0.2", "80", "2", "90 ± 0", "70 ± 0"], ["0.5", "50", "2", "90 ± 0", "70 ± 0"]])
    }

    func testATextAxisGetsATableButNoCurves() throws {
        let folder = try makeSweep([.init(key: "method", values: ["b", "a"])]) { set in [#"{"accuracy":\#(set[0].hasSuffix("a") ? 1 : 2)}"#] }
        let results = try SweepResults(folder: folder, manifest: try SweepManifest.load(folder))
        XCTAssertEqual(results.xKey, "method")
        XCTAssertTrue(results.charts().isEmpty)
        XCTAssertEqual(results.table().rows, [["b", "1", "2"], ["a", "1", "1"]])
    }

    func testADamagedManifestIsNamed() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try #"{"name": "s", "points": []}"#.write(toFile: root + "/sweep.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SweepManifest.load(root)) { e in
            XCTAssertTrue("\(e)".contains("sweep.json is damaged: key '"), "\(e)")
        }
        XCTAssertThrowsError(try SweepManifest.load(root + "/none")) { e in
            XCTAssertTrue("\(e)".contains("is not a sweep folder: it has no sweep.json"), "\(e)")
        }
    }
}

import XCTest
import Foundation
@testable import LopperReport

final class ReportTests: XCTestCase {
    /// A run folder with the files `lp` writes.
    func makeRun(_ name: String, records: [String], tables: [String] = [], plots: [String] = [], layers: String? = nil,
                 in root: String) throws -> String {
        let dir = root + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"recipe":"lottery_ticket","settings":{"rounds":3,"lr":0.0012},"started":"2026-11-21T00:00:00Z","lopper_version":"0.1.0","script_hash":"abc"}"#
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        try #"{"status":"finished"}"#.write(toFile: dir + "/status.json", atomically: true, encoding: .utf8)
        try (records.joined(separator: "\n") + "\n").write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        if !tables.isEmpty { try (tables.joined(separator: "\n") + "\n").write(toFile: dir + "/tables.jsonl", atomically: true, encoding: .utf8) }
        if !plots.isEmpty { try (plots.joined(separator: "\n") + "\n").write(toFile: dir + "/plots.jsonl", atomically: true, encoding: .utf8) }
        if let layers { try layers.write(toFile: dir + "/layers.json", atomically: true, encoding: .utf8) }
        return dir
    }

    var root = ""
    override func setUp() { root = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path }
    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func lottery(_ name: String, offset: Double) throws -> String {
        var records: [String] = []
        for (i, remaining) in [100.0, 80, 64].enumerated() {
            records.append(#"{"step":\#(2 * i + 1),"remaining":\#(remaining),"accuracy":\#(88 + Double(i) + offset),"arm":"rewind"}"#)
            records.append(#"{"step":\#(2 * i + 2),"remaining":\#(remaining),"accuracy":\#(88 - Double(i) + offset),"arm":"reinit"}"#)
        }
        return try makeRun(name, records: records,
                           tables: [#"{"title":"results","columns":["remaining %","acc %"],"rows":[["100","88.00"],["80","89.00"]]}"#],
                           layers: #"[{"name":"fc1.weight","params":100,"nonzero":64,"density":0.64},{"name":"fc2.weight","params":10,"nonzero":8,"density":0.8}]"#,
                           in: root)
    }

    func testAccuracyAgainstRemainingHasOneSeriesPerArmOnALogAxis() throws {
        let run = try RunRecord(path: try lottery("a", offset: 0))
        let charts = ReportCharts(runs: [run]).accuracyVsRemaining()
        XCTAssertEqual(charts.count, 1)
        XCTAssertTrue(charts[0].logX)
        XCTAssertEqual(charts[0].series.map(\.name), ["rewind", "reinit"])
        XCTAssertEqual(charts[0].series[1].points.map(\.y), [88, 87, 86])
        XCTAssertEqual(charts[0].series[0].points.map(\.x), [100, 80, 64])
        let svg = charts[0].svg()
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertTrue(svg.contains("(log scale)"), svg)
    }

    func testFractionsAndSparsityBecomeRemainingPercent() {
        XCTAssertEqual(ReportCharts.remaining(["density": .number(0.25)], fraction: true), 25)
        XCTAssertEqual(ReportCharts.remaining(["sparsity": .number(90)], fraction: false), 10)
        XCTAssertNil(ReportCharts.remaining(["loss": .number(1)], fraction: false))
    }

    func testOverlayAveragesRunsWithTheirSpread() throws {
        let runs = [try RunRecord(path: try lottery("s1", offset: 0)), try RunRecord(path: try lottery("s2", offset: 2))]
        let series = ReportCharts(runs: runs).accuracyVsRemaining()[0].series
        XCTAssertEqual(series[0].name, "rewind, mean of 2 runs")
        XCTAssertEqual(series[0].points.map(\.y), [89, 90, 91])
        XCTAssertEqual(series[0].band?.map(\.low), [88, 89, 90])
        XCTAssertEqual(series[0].band?.map(\.high), [90, 91, 92])
        let html = HTMLReport(runs: runs).render()
        XCTAssertTrue(html.contains("<polygon"), "the spread is drawn as a band")
        XCTAssertTrue(html.contains("<th>s1</th><th>s2</th>"))
    }

    func testSeedsOfOneRunAreAveragedToo() throws {
        let dir = try makeRun("seeds", records: [#"{"step":1,"seed":1,"remaining":100,"accuracy":80,"arm":"rewind"}"#,
                                                 #"{"step":2,"seed":1,"remaining":50,"accuracy":82,"arm":"rewind"}"#,
                                                 #"{"step":3,"seed":2,"remaining":100,"accuracy":84,"arm":"rewind"}"#,
                                                 #"{"step":4,"seed":2,"remaining":50,"accuracy":86,"arm":"rewind"}"#], in: root)
        let series = ReportCharts(runs: [try RunRecord(path: dir)]).accuracyVsRemaining()[0].series
        XCTAssertEqual(series.map(\.name), ["rewind, mean of 2 seeds"])
        XCTAssertEqual(series[0].points.map(\.y), [82, 84])
        XCTAssertEqual(series[0].band?.map(\.high), [84, 86])
    }

    func testHTMLReportHoldsSettingsPlotsLayersAndTables() throws {
        let dir = try lottery("one", offset: 0)
        try ReportWriter.write(run: dir)
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<td>rounds</td><td>3</td>"))
        XCTAssertTrue(html.contains("accuracy vs remaining weights"))
        XCTAssertTrue(html.contains("density per layer, final masks") && html.contains("64.00%"))
        XCTAssertTrue(html.contains("<caption>results</caption>") && html.contains("<td class=\"n\">89.00</td>"))
        XCTAssertFalse(html.contains("http-equiv"), "a finished run's page does not reload itself")
        XCTAssertFalse(html.contains("src=\"http"), "nothing is fetched")
        let md = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("| remaining % | acc % |\n|---|---|\n| 100 | 88.00 |"), md)
    }

    func testRecipePlotsFromKeysAndFromPoints() throws {
        let dir = try makeRun("p", records: [#"{"step":1,"round":1,"loss":2.0,"method":"snip"}"#, #"{"step":2,"round":2,"loss":1.0,"method":"snip"}"#],
                              plots: [#"{"title":"loss by round","x":"round","y":"loss","series":"method"}"#,
                                      #"{"title":"curve","x":[1,2,3],"y":[3,2,1],"series":"a"}"#,
                                      #"{"title":"curve","x":[1,2],"y":[1,2],"series":"b"}"#], in: root)
        let charts = ReportCharts(runs: [try RunRecord(path: dir)]).recipePlots()
        XCTAssertEqual(charts.map(\.title), ["loss by round", "curve"])
        XCTAssertEqual(charts[0].series.map(\.name), ["snip"])
        XCTAssertEqual(charts[0].series[0].points.map(\.y), [2, 1])
        XCTAssertEqual(charts[1].series.map(\.name), ["a", "b"])
    }

    func testLogAxisTicksAreDecadesAndLinearTicksAreRound() {
        let log = Axis(values: [0.1, 100], log: true, length: 100)
        XCTAssertEqual(log.ticks, [0.1, 1, 10, 100])
        let lin = Axis(values: [0, 10], log: false, length: 100)
        XCTAssertEqual(lin.ticks, [0, 2, 4, 6, 8, 10])
    }

    func testAHalfWrittenLastLineIsSkippedButABadLineIsAnError() throws {
        let dir = try makeRun("k", records: [#"{"step":1,"loss":1}"#], in: root)
        try #"{"step":1,"loss":1}"#.appending("\n{\"step\":2,\"lo").write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        XCTAssertEqual(try RunRecord(path: dir).records.count, 1)
        try "{oops\n{\"step\":2}\n".write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunRecord(path: dir)) { e in
            XCTAssertTrue("\(e)".contains("metrics.jsonl line 1 is not valid JSON"), "\(e)")
        }
        XCTAssertThrowsError(try RunRecord(path: root + "/nothing")) { e in XCTAssertTrue("\(e)".contains("not a run folder"), "\(e)") }
    }

    func testSpeedupAgainstSparsityAndLatenciesMakeASpeedSection() throws {
        let records = [
            #"{"step":1,"benchmark":"dense","batch":64,"latency_ms":10.0}"#,
            #"{"step":2,"benchmark":"compacted","batch":64,"latency_ms":2.5}"#,
            #"{"step":3,"kind":"channels","sparsity":50,"speedup_b64":2.0}"#,
            #"{"step":4,"kind":"channels","sparsity":90,"speedup_b64":6.0}"#,
            #"{"step":5,"kind":"masks","sparsity":50,"speedup_b64":1.0}"#,
        ]
        let run = try RunRecord(path: try makeRun("speed", records: records, in: root))
        let charts = ReportCharts(runs: [run])
        let speed = charts.speedupVsSparsity()
        XCTAssertEqual(speed.count, 1)
        XCTAssertEqual(speed[0].series.map(\.name), ["channels", "masks", "dense (1×)"])
        XCTAssertEqual(speed[0].series[0].points.map(\.x), [50, 90])
        XCTAssertEqual(speed[0].series[0].points.map(\.y), [2, 6])
        XCTAssertEqual(speed[0].series[2].points.map(\.y), [1, 1])
        let latency = try XCTUnwrap(charts.latencies())
        XCTAssertEqual(latency.bars.map(\.label), ["dense b64", "compacted b64"])
        XCTAssertEqual(latency.bars.map(\.value), [100, 25])
        let html = HTMLReport(runs: [run]).render()
        XCTAssertTrue(html.contains("<h2>Speed</h2>"), html)
    }
}

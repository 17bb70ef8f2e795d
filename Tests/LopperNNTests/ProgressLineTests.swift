import XCTest
@testable import LopperNN

final class ProgressLineTests: XCTestCase {
    func testTheLineShowsDoneTotalPercentAndDetail() {
        let line = ProgressLine("train", total: 200, unit: "samples")
        defer { line.finish() }
        line.update(50, "loss 0.4123")
        XCTAssertEqual(line.text, "train 50/200  25% loss 0.4123")
        XCTAssertEqual(ProgressLine.clock(75), "1:15")
        XCTAssertEqual(ProgressLine.clock(3725), "1:02:05")
    }

    func testNestedLinesJoinOuterFirst() {
        let outer = ProgressLine("round", total: 3)
        let inner = ProgressLine("train", total: 10)
        XCTAssertEqual(ProgressLine.active.map(\.label), ["round", "train"])
        inner.finish()
        outer.finish()
        XCTAssertTrue(ProgressLine.active.isEmpty)
    }
}

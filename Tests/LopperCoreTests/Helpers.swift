import XCTest
@testable import LopperCore

/// A tensor from a shape and row-major values.
func T(_ shape: [Int], _ values: [Float]) -> Tensor { try! Tensor(shape: shape, values: values) }

/// Asserts shape and values (within `accuracy`).
func assertTensor(_ t: Tensor, _ shape: [Int], _ values: [Float], accuracy: Float = 1e-5,
                  file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(t.shape, shape, "shape", file: file, line: line)
    let got = t.toArray()
    XCTAssertEqual(got.count, values.count, "count", file: file, line: line)
    for (i, (g, v)) in zip(got, values).enumerated() where !(abs(g - v) <= accuracy || (g.isNaN && v.isNaN) || g == v) {
        XCTFail("element \(i): got \(g), expected \(v) (all: \(got))", file: file, line: line)
        return
    }
}

/// Asserts that `body` throws a TensorError whose message contains `fragment`.
func assertThrows(_ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error containing '\(fragment)'", file: file, line: line)
    } catch let e as TensorError {
        XCTAssertTrue(e.message.contains(fragment), "message '\(e.message)' lacks '\(fragment)'", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

import XCTest
@testable import LopperCore

final class CreationTests: XCTestCase {
    func testConstantFills() throws {
        assertTensor(try Tensor.zeros([2, 2]), [2, 2], [0, 0, 0, 0])
        assertTensor(try Tensor.ones([3]), [3], [1, 1, 1])
        assertTensor(try Tensor.full([1, 2], 2.5), [1, 2], [2.5, 2.5])
        assertTensor(Tensor(scalar: 4), [], [4])
        assertThrows("sizes must be non-negative") { _ = try Tensor.zeros([2, -1]) }
    }

    func testRanges() throws {
        assertTensor(try Tensor.arange(0, 5), [5], [0, 1, 2, 3, 4])
        assertTensor(try Tensor.arange(1, 2, 0.25), [4], [1, 1.25, 1.5, 1.75])
        assertTensor(try Tensor.arange(3, 0, -1), [3], [3, 2, 1])
        assertTensor(try Tensor.linspace(0, 1, 5), [5], [0, 0.25, 0.5, 0.75, 1])
        assertTensor(try Tensor.linspace(2, 2, 1), [1], [2])
        assertThrows("step must be a non-zero") { _ = try Tensor.arange(0, 1, 0) }
    }

    func testEye() throws {
        assertTensor(try Tensor.eye(2), [2, 2], [1, 0, 0, 1])
        assertTensor(try Tensor.eye(2, 3), [2, 3], [1, 0, 0, 0, 1, 0])
    }

    func testValuesMustMatchShape() {
        assertThrows("needs 6 values, got 5") { _ = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5]) }
    }
}

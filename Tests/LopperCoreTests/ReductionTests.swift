import XCTest
@testable import LopperCore

final class ReductionTests: XCTestCase {
    let x = T([2, 3], [1, -2, 3, 4, 5, -6])

    func testSumAndMean() throws {
        assertTensor(try x.sum(), [], [5])
        assertTensor(try x.sum(dim: 0), [3], [5, 3, -3])
        assertTensor(try x.sum(dim: 1), [2], [2, 3])
        assertTensor(try x.sum(dim: -1, keepdim: true), [2, 1], [2, 3])
        assertTensor(try x.sum(keepdim: true), [1, 1], [5])
        assertTensor(try x.mean(dim: 0), [3], [2.5, 1.5, -1.5])
        assertTensor(try x.mean(), [], [5.0 / 6])
        // A strided input reduces the same as its contiguous copy.
        assertTensor(try x.transpose(0, 1).sum(dim: 0), [2], [2, 3])
    }

    func testMaxMinArg() throws {
        assertTensor(try x.max(), [], [5])
        assertTensor(try x.min(dim: 1), [2], [-2, -6])
        let (v, i) = try x.extremum(largest: true, dim: 0, op: "max")
        assertTensor(v, [3], [4, 5, 3])
        assertTensor(i, [3], [1, 1, 0])
        assertTensor(try x.argmax(), [], [4])
        assertTensor(try x.argmin(dim: 1), [2], [1, 2])
        assertTensor(try T([3], [2, 2, 1]).argmax(), [], [0])  // first of ties
        assertThrows("max: tensor of shape [0] is empty") { _ = try Tensor.zeros([0]).max() }
    }

    func testNorms() throws {
        assertTensor(try x.norm(p: 1), [], [21])
        assertTensor(try x.norm(p: 2), [], [Float((1 + 4 + 9 + 16 + 25 + 36 as Double).squareRoot())])
        assertTensor(try x.norm(p: .infinity), [], [6])
        assertTensor(try x.norm(p: 1, dim: 1), [2], [6, 15])
        assertTensor(try T([2], [3, 4]).norm(p: 3), [], [Float(pow(91.0, 1.0 / 3))])
        assertThrows("norm: p must be positive") { _ = try self.x.norm(p: 0) }
    }

    func testVarianceAndStd() throws {
        let a = T([4], [1, 2, 3, 4])
        assertTensor(try a.variance(), [], [1.6666666])
        assertTensor(try a.variance(unbiased: false), [], [1.25])
        assertTensor(try a.std(), [], [1.2909944])
        assertTensor(try T([2, 2], [1, 3, 2, 6]).variance(dim: 0), [2], [0.5, 4.5])
        assertThrows("var: needs at least 2 elements") { _ = try T([1], [1]).variance() }
    }

    func testCountNonzero() throws {
        let a = T([2, 3], [0, 1, 0, 2, 0, 3])
        assertTensor(try a.countNonzero(), [], [3])
        assertTensor(try a.countNonzero(dim: 0), [3], [1, 1, 1])
    }

    func testSumsAccurately() throws {
        // 2^24 + 1s would stall a float accumulator at 16777216.
        let ones = try Tensor.ones([1 << 24 + 8])
        XCTAssertEqual(try ones.sum().item(), Float(1 << 24 + 8))
    }
}

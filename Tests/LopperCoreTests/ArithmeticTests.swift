import XCTest
@testable import LopperCore

final class ArithmeticTests: XCTestCase {
    func testBroadcastingRules() throws {
        XCTAssertEqual(try Shape.broadcast([2, 3], [3], op: "t"), [2, 3])
        XCTAssertEqual(try Shape.broadcast([2, 1], [1, 3], op: "t"), [2, 3])
        XCTAssertEqual(try Shape.broadcast([4, 1, 5], [3, 1], op: "t"), [4, 3, 5])
        XCTAssertEqual(try Shape.broadcast([], [2, 2], op: "t"), [2, 2])
        assertThrows("add: shapes [2,3] and [2] do not broadcast") { _ = try Shape.broadcast([2, 3], [2], op: "add") }
    }

    func testBinaryOpsWithBroadcasting() throws {
        let a = T([2, 3], [1, 2, 3, 4, 5, 6])
        assertTensor(try a.add(T([3], [10, 20, 30])), [2, 3], [11, 22, 33, 14, 25, 36])
        assertTensor(try a.sub(T([2, 1], [1, 2])), [2, 3], [0, 1, 2, 2, 3, 4])
        assertTensor(try T([2, 1], [1, 2]).mul(T([1, 3], [1, 2, 3])), [2, 3], [1, 2, 3, 2, 4, 6])
        assertTensor(try a.div(Tensor(scalar: 2)), [2, 3], [0.5, 1, 1.5, 2, 2.5, 3])
        assertTensor(try T([2], [2, 3]).pow(T([2], [3, 2])), [2], [8, 9])
        // A transposed (strided) operand.
        assertTensor(try a.transpose(0, 1).add(T([3, 2], [0, 0, 0, 0, 0, 0])), [3, 2], [1, 4, 2, 5, 3, 6])
        assertThrows("mul: shapes [2,3] and [2] do not broadcast") { _ = try a.mul(T([2], [1, 1])) }
    }

    func testScalarOps() throws {
        let a = T([3], [1, 2, 4])
        assertTensor(try a.add(1), [3], [2, 3, 5])
        assertTensor(try a.rsub(1), [3], [0, -1, -3])
        assertTensor(try a.rdiv(4), [3], [4, 2, 1])
        assertTensor(try a.pow(2), [3], [1, 4, 16])
        assertTensor(try a.rpow(2), [3], [2, 4, 16])
    }

    func testUnaryFunctions() throws {
        let a = T([4], [-2, -0.5, 0, 1])
        assertTensor(try a.neg(), [4], [2, 0.5, 0, -1])
        assertTensor(try a.abs(), [4], [2, 0.5, 0, 1])
        assertTensor(try a.sign(), [4], [-1, -1, 0, 1])
        assertTensor(try a.relu(), [4], [0, 0, 0, 1])
        assertTensor(try T([2], [4, 9]).sqrt(), [2], [2, 3])
        assertTensor(try T([2], [0, 1]).exp(), [2], [1, 2.7182817])
        assertTensor(try T([2], [1, 2.7182817]).log(), [2], [0, 1])
        assertTensor(try T([3], [0, 2, -2]).sigmoid(), [3], [0.5, 0.8807971, 0.11920292])
        assertTensor(try T([2], [0, 1]).tanh(), [2], [0, 0.7615942])
        assertTensor(try a.clamp(min: -1, max: 0.5), [4], [-1, -0.5, 0, 0.5])
        assertTensor(try a.clamp(min: nil, max: 0), [4], [-2, -0.5, 0, 0])
        assertThrows("min 1.0 is greater than max 0.0") { _ = try a.clamp(min: 1, max: 0) }
    }

    func testComparisonsAndWhere() throws {
        let a = T([3], [1, 2, 3])
        assertTensor(try a.gt(2), [3], [0, 0, 1])
        assertTensor(try a.le(2), [3], [1, 1, 0])
        assertTensor(try a.eq(T([3], [1, 0, 3])), [3], [1, 0, 1])
        assertTensor(try a.ne(T([1], [2])), [3], [1, 0, 1])
        assertTensor(try Tensor.where(T([3], [1, 0, 1]), a, Tensor(scalar: -1)), [3], [1, -1, 3])
        assertTensor(try Tensor.where(T([2, 1], [1, 0]), T([3], [1, 2, 3]), T([1], [0])), [2, 3], [1, 2, 3, 0, 0, 0])
    }

    func testInPlaceOpsWriteThroughViews() throws {
        let a = T([2, 3], [1, 2, 3, 4, 5, 6])
        let row = try a.select(0, 0)
        try row.add_(T([3], [1, 1, 1]), alpha: 2)
        assertTensor(a, [2, 3], [3, 4, 5, 4, 5, 6])
        try a.mul_(T([2, 1], [1, 0]))
        assertTensor(a, [2, 3], [3, 4, 5, 0, 0, 0])
        try a.masked_fill_(a.gt(3.5), -1)
        assertTensor(a, [2, 3], [3, -1, -1, 0, 0, 0])
        try a.transpose(0, 1).copy_(T([3, 2], [1, 2, 3, 4, 5, 6]))
        assertTensor(a, [2, 3], [1, 3, 5, 2, 4, 6])
        a.zero_()
        assertTensor(a, [2, 3], [0, 0, 0, 0, 0, 0])
        assertThrows("cannot write a result of shape [2,3] into a tensor of shape [3]") {
            try T([3], [0, 0, 0]).add_(T([2, 3], [1, 1, 1, 1, 1, 1]))
        }
    }

    func testInPlaceWithOverlappingSource() throws {
        // b is a shifted view of a's storage: the copy must read the old values.
        let a = T([4], [1, 2, 3, 4])
        let dst = try a.narrow(0, 1, 3), src = try a.narrow(0, 0, 3)
        try dst.copy_(src)
        assertTensor(a, [4], [1, 1, 2, 3])
    }
}

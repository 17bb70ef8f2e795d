import XCTest
@testable import LopperCore

final class MatmulTests: XCTestCase {
    /// The textbook triple loop, in double precision.
    func naive(_ a: Tensor, _ b: Tensor) -> [Float] {
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += Double(a[i, p]) * Double(b[p, j]) }
            out[i * n + j] = Float(s)
        } }
        return out
    }

    func testOddShapesAgainstNaiveLoop() throws {
        let g = RandomGenerator(seed: 3)
        for (m, k, n) in [(1, 1, 1), (7, 5, 3), (13, 1, 9), (3, 17, 1), (31, 29, 37)] {
            let a = try Tensor.randn([m, k], generator: g), b = try Tensor.randn([k, n], generator: g)
            assertTensor(try a.matmul(b), [m, n], naive(a, b), accuracy: 1e-4)
        }
    }

    func testTransposedAndStridedOperands() throws {
        let g = RandomGenerator(seed: 4)
        let a = try Tensor.randn([5, 7], generator: g), b = try Tensor.randn([6, 5], generator: g)
        let at = try a.transpose(0, 1), bt = try b.transpose(0, 1)  // [7,5], [5,6]
        assertTensor(try at.matmul(bt), [7, 6], naive(try at.clone(), try bt.clone()), accuracy: 1e-4)
        let sliced = try Tensor.randn([5, 10], generator: g).narrow(1, 2, 7)  // row stride 10
        assertTensor(try sliced.matmul(at), [5, 5], naive(try sliced.clone(), try at.clone()), accuracy: 1e-4)
        let everyOther = try Tensor.randn([4, 6], generator: g).reshape([4, 3, 2]).select(2, 0)  // column stride 2
        assertTensor(try everyOther.matmul(try Tensor.eye(3)), [4, 3], everyOther.toArray(), accuracy: 1e-6)
    }

    func testVectorAndBatchedCases() throws {
        let a = T([2, 3], [1, 2, 3, 4, 5, 6])
        assertTensor(try T([3], [1, 1, 1]).matmul(T([3], [1, 2, 3])), [], [6])
        assertTensor(try a.matmul(T([3], [1, 0, 1])), [2], [4, 10])
        assertTensor(try T([2], [1, 1]).matmul(a), [3], [5, 7, 9])
        let batch = try Tensor.stack([a, a.mul(2)], dim: 0)  // [2,2,3]
        let w = T([3, 1], [1, 1, 1])
        assertTensor(try batch.matmul(w), [2, 2, 1], [6, 15, 12, 30])  // broadcast of w
        let bs = try Tensor.stack([w, w.mul(-1)], dim: 0)  // [2,3,1]
        assertTensor(try a.matmul(bs), [2, 2, 1], [6, 15, -6, -15])
    }

    func testMisalignedShapesNameBoth() {
        assertThrows("matmul: [3,4] and [5,6] do not align") { _ = try Tensor(shape: [3, 4]).matmul(Tensor(shape: [5, 6])) }
        assertThrows("matmul: shapes [2] and [3] do not broadcast") {
            _ = try Tensor(shape: [2, 1, 1]).matmul(Tensor(shape: [3, 1, 1]))
        }
    }
}

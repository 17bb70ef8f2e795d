import XCTest
@testable import LopperCore

final class SelectionTests: XCTestCase {
    func testSortIsStableWithIndices() throws {
        let (v, i) = try T([5], [3, 1, 2, 1, 5]).sort()
        assertTensor(v, [5], [1, 1, 2, 3, 5])
        assertTensor(i, [5], [1, 3, 2, 0, 4])
        let (d, di) = try T([2, 3], [1, 3, 2, 6, 5, 4]).sort(dim: 1, descending: true)
        assertTensor(d, [2, 3], [3, 2, 1, 6, 5, 4])
        assertTensor(di, [2, 3], [1, 2, 0, 0, 1, 2])
        let (c, ci) = try T([2, 2], [4, 1, 2, 3]).sort(dim: 0)
        assertTensor(c, [2, 2], [2, 1, 4, 3])
        assertTensor(ci, [2, 2], [1, 0, 0, 1])
    }

    func testTopk() throws {
        let x = T([6], [5, 1, 9, 3, 7, 9])
        let (v, i) = try x.topk(3)
        assertTensor(v, [3], [9, 9, 7])
        assertTensor(i, [3], [2, 5, 4])
        let (s, si) = try x.topk(2, largest: false)
        assertTensor(s, [2], [1, 3])
        assertTensor(si, [2], [1, 3])
        assertThrows("topk: k = 7 is out of range") { _ = try x.topk(7) }
    }

    func testKthvalueAndQuantileMatchSorting() throws {
        let g = RandomGenerator(seed: 9)
        let x = try Tensor.randn([10_001], generator: g)
        let sorted = x.toArray().sorted()
        for k in [1, 2, 500, 5001, 10_001] {
            let (v, i) = try x.kthvalue(k)
            XCTAssertEqual(try v.item(), sorted[k - 1])
            XCTAssertEqual(x.data[Int(try i.item())], sorted[k - 1])
        }
        XCTAssertEqual(try x.quantile(0.5), sorted[5000])
        let q = 0.3, pos = q * 10_000
        let lo = sorted[Int(pos)], hi = sorted[Int(pos) + 1]
        XCTAssertEqual(try x.quantile(q), lo + Float(pos - pos.rounded(.down)) * (hi - lo), accuracy: 1e-6)
        XCTAssertEqual(try x.quantile(0), sorted[0])
        XCTAssertEqual(try x.quantile(1), sorted[10_000])
        assertThrows("quantile: q must be in [0, 1]") { _ = try x.quantile(1.5) }
    }

    func testKthvalueAlongDimAndDuplicates() throws {
        let x = T([2, 4], [4, 4, 1, 4, 2, 2, 2, 2])
        let (v, i) = try x.kthvalue(2, dim: 1)
        assertTensor(v, [2], [4, 2])
        assertTensor(i, [2], [0, 1])
        XCTAssertEqual(try T([5], [7, 7, 7, 7, 7]).quantile(0.37), 7)
    }
}

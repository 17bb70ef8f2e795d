import XCTest
@testable import LopperCore

final class ViewTests: XCTestCase {
    let x = T([2, 3], [1, 2, 3, 4, 5, 6])

    func testReshapeAndViewShareStorage() throws {
        let r = try x.reshape([3, -1])
        assertTensor(r, [3, 2], [1, 2, 3, 4, 5, 6])
        XCTAssertTrue(r.sharesStorage(with: x))
        r.data[0] = 9
        XCTAssertEqual(x[0, 0], 9)
        assertThrows("cannot reshape [2,3] (6 elements) into [4,-1]") { _ = try self.x.reshape([4, -1]) }
        assertThrows("only one size may be -1") { _ = try self.x.reshape([-1, -1]) }
    }

    func testTransposeIsAStridedView() throws {
        let t = try x.transpose(0, 1)
        assertTensor(t, [3, 2], [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(t.strides, [1, 3])
        XCTAssertFalse(t.isContiguous)
        XCTAssertTrue(t.sharesStorage(with: x))
        assertThrows("not contiguous") { _ = try t.view([6]) }
        let r = try t.reshape([6])  // copies
        assertTensor(r, [6], [1, 4, 2, 5, 3, 6])
        XCTAssertFalse(r.sharesStorage(with: x))
    }

    func testPermuteSqueezeUnsqueeze() throws {
        let a = try Tensor.arange(0, 24).reshape([2, 3, 4])
        let p = try a.permute([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(p[1, 1, 2], a[1, 2, 1])
        let u = try x.unsqueeze(1)
        XCTAssertEqual(u.shape, [2, 1, 3])
        XCTAssertEqual(try u.squeeze().shape, [2, 3])
        XCTAssertEqual(try x.unsqueeze(-1).shape, [2, 3, 1])
        XCTAssertEqual(try T([1, 2, 1], [1, 2]).squeeze(0).shape, [2, 1])
        assertThrows("must be a permutation") { _ = try a.permute([0, 0, 1]) }
    }

    func testNarrowAndSelectWriteThrough() throws {
        let row = try x.select(0, 1)
        assertTensor(row, [3], [4, 5, 6])
        let col = try x.narrow(1, 1, 2)
        assertTensor(col, [2, 2], [2, 3, 5, 6])
        col.fill_(0)
        assertTensor(x, [2, 3], [1, 0, 0, 4, 0, 0])
        assertThrows("out of range") { _ = try self.x.select(0, 2) }
        assertThrows("does not fit") { _ = try self.x.narrow(1, 2, 2) }
    }

    func testCatStackExpand() throws {
        let a = T([2, 2], [1, 2, 3, 4]), b = T([2, 1], [5, 6])
        assertTensor(try Tensor.cat([a, b], dim: 1), [2, 3], [1, 2, 5, 3, 4, 6])
        assertTensor(try Tensor.cat([a, a], dim: 0), [4, 2], [1, 2, 3, 4, 1, 2, 3, 4])
        assertTensor(try Tensor.stack([a, a], dim: 2), [2, 2, 2], [1, 1, 2, 2, 3, 3, 4, 4])
        assertThrows("does not match [2,2] outside dimension 1") { _ = try Tensor.cat([a, b], dim: 0) }
        let e = try b.expand([2, 3])
        assertTensor(e, [2, 3], [5, 5, 5, 6, 6, 6])
        XCTAssertEqual(e.strides, [1, 0])
    }

    func testCloneAndContiguous() throws {
        let c = try x.clone()
        XCTAssertFalse(c.sharesStorage(with: x))
        XCTAssertTrue(try x.contiguous() === x)
    }
}

import XCTest
@testable import LopperCore
@testable import LopperNN
@testable import LopperPrune

/// Sparse conversion folds a ReLU that follows a sparse layer into it (one module call
/// fewer at batch 1) and leaves one with hooks alone; outputs are unchanged.
final class SparseConversionTests: XCTestCase {
    /// A sparse layer keeping every third weight.
    func layer(rows: Int, columns: Int, bias: Bool) throws -> Linear {
        RandomGenerator.shared.reseed(4)
        let l = try Linear(columns, rows, bias: bias)
        for i in 0..<l.weight.count where i % 3 != 0 { l.weight.data[i] = 0 }
        return l
    }

    func testAReLUAfterASparseLayerIsFoldedIntoIt() throws {
        let first = try SparseLinear(try layer(rows: 30, columns: 20, bias: true))
        let second = try SparseLinear(try layer(rows: 5, columns: 30, bias: true))
        let relu = try Elementwise.relu(), hooked = try Elementwise.relu()
        let plain = Sequential([first, relu, second, hooked])
        let x = try Tensor(shape: [2, 20])
        let g = RandomGenerator(seed: 5)
        x.apply_ { _ in Float(g.normal()) }
        let want = try Autograd.noGrad { try plain(x) }
        // A hook on the last ReLU keeps it (someone reads its output); the first one folds.
        var seen = 0
        _ = hooked.hookSet().onForward { _, _, _ in seen += 1; return nil }
        let folded = try SparseConversion.foldReLUs(plain)
        XCTAssertEqual(folded, ["1"])
        XCTAssertEqual(plain.children.map { $0.1.kind }, ["SparseLinear", "SparseLinear", "ReLU"])
        XCTAssertTrue(first.rectified)
        XCTAssertTrue(first.summary.hasSuffix(", then ReLU)"))
        XCTAssertFalse(second.rectified, "its ReLU has a hook")
        for batch in [1, 2] {
            let input = batch == 1 ? try x.narrow(0, 0, 1).reshape([20]) : x
            let got = try Autograd.noGrad { try plain(input) }
            let expected = batch == 1 ? try want.narrow(0, 0, 1).reshape([5]) : want
            for i in 0..<expected.count { XCTAssertEqual(got.data[i], expected.data[i], accuracy: 1e-5) }
        }
        XCTAssertEqual(seen, 2)
        let copy = try plain.cloneTree()
        XCTAssertTrue((copy.children[0].1 as? SparseLinear)?.rectified == true, "a copy keeps the fold")
    }
}

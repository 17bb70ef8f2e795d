import XCTest
@testable import LopperCore
@testable import LopperNN

/// One sample goes through the sliced-ELL copy of the weight, a batch through the CSR rows:
/// both must give the dense layer's outputs, for rows of every length (empty, full, a count
/// of rows that is not a multiple of a slice) and with or without a bias.
final class SparseLinearTests: XCTestCase {
    func layer(rows: Int, columns: Int, bias: Bool) throws -> Linear {
        RandomGenerator.shared.reseed(3)
        let l = try Linear(columns, rows, bias: bias)
        for r in 0..<rows {
            // Row r keeps a different share of its weights: none (r % 7 == 0), all (r % 7 == 6), or some.
            for c in 0..<columns where r % 7 == 0 || (r % 7 != 6 && (r * 31 + c * 17) % (r % 7 + 2) != 0) {
                l.weight.data[r * columns + c] = 0
            }
        }
        return l
    }

    func testOneSampleAndABatchEqualTheDenseLayer() throws {
        for (rows, columns, bias) in [(301, 37, true), (8, 5, false), (3, 1000, true), (1, 1, false), (17, 64, true)] {
            let dense = try layer(rows: rows, columns: columns, bias: bias)
            let sparse = try SparseLinear(dense)
            for batch in [1, 3] {
                let x = try Tensor(shape: batch == 1 ? [columns] : [batch, columns])
                let g = RandomGenerator(seed: 11)
                x.apply_ { _ in Float(g.normal()) }
                let want = try Autograd.noGrad { try dense(x) }, got = try Autograd.noGrad { try sparse(x) }
                XCTAssertEqual(got.shape, want.shape)
                var worst: Float = 0
                for i in 0..<want.count { worst = max(worst, abs(got.data[i] - want.data[i])) }
                XCTAssertLessThan(worst, 1e-4, "\(rows)×\(columns), batch \(batch), bias \(bias)")
            }
        }
    }

    func testTheSlicesAreSortedAndPaddedWithZeros() throws {
        let sparse = try SparseLinear(try layer(rows: 301, columns: 37, bias: true))
        let s = sparse.weights.sliced
        XCTAssertEqual(s.starts.count, (301 + 7) / 8)
        XCTAssertEqual(Set(s.permutation), Set((0..<301).map(Int32.init)), "every row once")
        XCTAssertEqual(s.lengths, s.lengths.sorted(by: >), "longest rows first")
        XCTAssertEqual(s.values.filter { $0 != 0 }.count, sparse.nonzeros, "every nonzero once, the rest padding")
        XCTAssertLessThan(Double(s.values.count) / Double(sparse.nonzeros), 1.25, "sorted slices pad little")
    }
}

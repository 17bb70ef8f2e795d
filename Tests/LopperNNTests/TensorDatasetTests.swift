import XCTest
@testable import LopperNN
import LopperCore

/// Data sets of tensors, subsets, splits and class-balanced picks.
final class TensorDatasetTests: XCTestCase {
    /// x row i is [i, 10 + i]; classes 0,1,2,0,1,2,…
    func sample(_ n: Int) throws -> Dataset {
        let x = try Tensor(shape: [n, 2])
        for i in 0..<n { x.data[2 * i] = Float(i); x.data[2 * i + 1] = Float(10 + i) }
        return try Dataset(name: "t", x: x, labels: (0..<n).map { Int32($0 % 3) }, classes: 3)
    }

    func testBatchesCopyTheRowsAndClassesOneBased() throws {
        let ds = try sample(6)
        let (x, y) = try ds.batch([4, 0][...], flatten: false)
        XCTAssertEqual(x.shape, [2, 2])
        XCTAssertEqual([x.data[0], x.data[1], x.data[2], x.data[3]], [4, 14, 0, 10])
        XCTAssertEqual([y.data[0], y.data[1]], [2, 1])
    }

    func testValueTargetsComeBackAsRows() throws {
        let x = try Tensor.arange(0, 8).reshape([4, 2]), y = try Tensor.arange(0, 12).reshape([4, 3])
        let ds = try Dataset(name: "v", x: x, values: y)
        XCTAssertEqual(ds.classes, 0)
        let (_, t) = try ds.batch([3][...], flatten: true)
        XCTAssertEqual(t.shape, [1, 3])
        XCTAssertEqual([t.data[0], t.data[1], t.data[2]], [9, 10, 11])
        XCTAssertThrowsError(try ds.perClass(1))
        XCTAssertThrowsError(try Dataset(name: "bad", x: x, values: try Tensor.zeros([3, 1])))
    }

    func testSubsetsAndSplitsShareStorageAndKeepOrder() throws {
        let ds = try sample(10)
        let sub = try ds.subset([9, 2, 2])
        XCTAssertEqual(try sub.batch([0, 1, 2][...], flatten: true).x.data[0], 9)
        XCTAssertEqual(sub.label(1), 2)
        let parts = try ds.split(sizes: [3, 5])
        XCTAssertEqual(parts.map { $0.count }, [3, 5, 2])
        XCTAssertEqual(try parts[2].batch([0][...], flatten: true).x.data[0], 8)
        XCTAssertEqual(try ds.split(sizes: [10]).count, 1, "no empty remainder")
        XCTAssertThrowsError(try ds.split(sizes: [8, 3]))
        XCTAssertThrowsError(try ds.subset([10]))
        let (first, held) = try ds.split(last: 4)
        XCTAssertEqual([first.count, held.count], [6, 4])
        XCTAssertEqual(held.label(0), 0)   // sample 6
    }

    func testPerClassTakesAtMostNOfEachInTheGivenOrder() throws {
        let ds = try sample(10)             // classes: 4 × 0, 3 × 1, 3 × 2
        let two = try ds.perClass(2)
        XCTAssertEqual(two.count, 6)
        XCTAssertEqual((0..<6).map { two.label($0) }, [0, 1, 2, 0, 1, 2])
        let reversed = try ds.perClass(1, order: Array((0..<10).reversed()))
        XCTAssertEqual(try reversed.batch([0, 1, 2][...], flatten: true).x.data[0], 9)
        XCTAssertEqual(try ds.perClass(5).count, 10)
        XCTAssertThrowsError(try ds.perClass(0))
    }

    func testClassesOutOfRangeAreErrors() throws {
        XCTAssertThrowsError(try Dataset(name: "c", x: try Tensor.zeros([2, 1]), labels: [0, 3], classes: 3)) { e in
            XCTAssertTrue("\(e)".contains("class 4 is outside 1..3"), "\(e)")
        }
        XCTAssertThrowsError(try Dataset(name: "c", x: try Tensor.zeros([2, 1]), labels: [0], classes: 3))
        // An absurd class count is refused before per-class arrays of that size are made.
        XCTAssertThrowsError(try Dataset(name: "c", x: try Tensor.zeros([1, 1]), labels: [0], classes: 1 << 60)) { e in
            XCTAssertTrue("\(e)".contains("expected 1 to 16777216"), "\(e)")
        }
    }
}

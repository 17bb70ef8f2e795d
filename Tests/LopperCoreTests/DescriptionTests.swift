import XCTest
@testable import LopperCore

final class DescriptionTests: XCTestCase {
    func testSmallTensors() throws {
        XCTAssertEqual(T([2, 2], [1, 2, 3, 40]).description, "[[ 1  2]\n [ 3 40]]\n[Tensor of shape 2x2]")
        XCTAssertEqual(T([3], [0.5, -1, 2]).description, "[ 0.5000 -1.0000  2.0000]\n[Tensor of shape 3]")
        XCTAssertEqual(Tensor(scalar: 2.5).description, "tensor(2.5000)")
        XCTAssertEqual(T([2], [1e-6, 1]).description, "[1.0000e-06 1.0000e+00]\n[Tensor of shape 2]")
        XCTAssertEqual(try Tensor.arange(0, 8).reshape([2, 2, 2]).description,
                       "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]\n[Tensor of shape 2x2x2]")
    }

    func testLargeTensorsAreSummarised() throws {
        let d = try Tensor.arange(0, 2000).reshape([2, 1000]).description
        XCTAssertEqual(d, "[[   0    1    2  ...  997  998  999]\n [1000 1001 1002  ... 1997 1998 1999]]\n[Tensor of shape 2x1000]")
    }
}

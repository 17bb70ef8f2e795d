import XCTest
@testable import LopperCore

/// The choice of OpenBLAS kernels the command restarts with.
final class BLASKernelsTests: XCTestCase {
    func testBLASKernelUpgradeOnlyWhenBetterAndNotSetByTheUser() {
        XCTAssertEqual(BLASKernels.upgrade(current: "Prescott", best: "SkylakeX", userSetting: nil), "SkylakeX")
        XCTAssertEqual(BLASKernels.upgrade(current: "Haswell", best: "SkylakeX", userSetting: nil), "SkylakeX")
        XCTAssertNil(BLASKernels.upgrade(current: "Cooperlake", best: "SkylakeX", userSetting: nil))
        XCTAssertNil(BLASKernels.upgrade(current: "Zen", best: "Haswell", userSetting: nil))
        XCTAssertNil(BLASKernels.upgrade(current: "Prescott", best: "SkylakeX", userSetting: "Prescott"))
        XCTAssertNil(BLASKernels.upgrade(current: "Prescott", best: nil, userSetting: nil))
    }
}

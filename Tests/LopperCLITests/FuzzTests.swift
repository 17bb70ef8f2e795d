import XCTest
import Foundation

/// A short run of the fuzz target (Tests/Fuzz/fuzz.lua; Scripts/fuzz runs long ones):
/// random calls across the whole Lua surface and damaged files, from fixed seeds. Each
/// batch must end by itself, with no error that names nothing and no invalid file accepted.
final class FuzzTests: CLITestCase {
    let target = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/fuzz.lua").path

    func testFuzzBatchesEndCleanly() throws {
        for seed in [101, 102] {
            let r = try lopper("run", "--sandbox", "--memory-limit", "256M", "--quiet", "--name", "fuzz-\(seed)-\(UUID().uuidString)", target,
                               "--set", "calls=1500", "--set", "files=250", "--set", "seed=\(seed)", "--set", "quick=true")
            XCTAssertEqual(r.status, 0, "seed \(seed): \(r.err.suffix(2000))")
            XCTAssertTrue(r.out.contains("fuzz seed \(seed): 1500 calls") && r.out.contains("0 errors naming nothing") &&
                          r.out.contains("0 invalid accepted"), r.out)
        }
    }
}

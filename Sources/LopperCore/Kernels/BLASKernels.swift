/// OpenBLAS picks its kernels when it loads, from a table of processors it knows. Debian's
/// 0.3.21 does not know newer Xeons and falls back to its Prescott (SSE3) kernels: sgemm
/// ran at 30 GFLOP/s on one core here, against 105–114 with the SkylakeX kernels the
/// processor can run. `OPENBLAS_CORETYPE` overrides the choice, but only before the library
/// loads, so the command re-executes itself once with it set (a user's own setting is kept).

import CBLAS
import Foundation
import LopperKernels

public enum BLASKernels {
    /// The kernel set OpenBLAS runs ("SkylakeX", "Prescott", ...).
    public static var current: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// The best kernel set this processor can run, or nil when OpenBLAS's own choice stands.
    static var best: String? {
        switch lk_cpu_level() { case 2: return "SkylakeX"; case 1: return "Haswell"; default: return nil }
    }

    /// How good a kernel set is: 2 for AVX-512 ones, 1 for AVX2 ones, 0 for older ones.
    static func level(_ name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 2
        case "haswell", "zen", "excavator", "steamroller": return 1
        default: return 0
        }
    }

    /// The kernel set to restart with, or nil when the current one is already the best (or
    /// the user set `OPENBLAS_CORETYPE`).
    static func upgrade(current: String, best: String?, userSetting: String?) -> String? {
        guard userSetting == nil, let best, level(best) > level(current) else { return nil }
        return best
    }

    /// Re-executes this program with `OPENBLAS_CORETYPE` set when OpenBLAS chose kernels
    /// below what the processor runs; returns when nothing is to be done or exec fails.
    /// Call it first thing in `main`, before any other thread starts.
    public static func useBest() {
        let setting = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        guard let name = upgrade(current: current, best: best, userSetting: setting) else { return }
        setenv("OPENBLAS_CORETYPE", name, 1)
        let args = CommandLine.unsafeArgv
        execv("/proc/self/exe", args)
    }
}

/// Lopper's own threads: batch-parallel loops (one convolution per sample) and the split
/// of large matrix products, run on the worker pool of `LopperKernels` (Pool.c). OpenBLAS
/// itself is set to one thread, because its idle workers spin (sched_yield) for ~0.1 s
/// after each threaded product and then compete with these for the cores. A split depends
/// only on the sizes and the number of workers, never on timing, so every sum runs in the
/// same order each time.

import CBLAS
import Foundation
import LopperKernels

public enum Parallel {
    /// How many parts work is split into: `LOPPER_NUM_THREADS` if set, else the CPUs this
    /// process may use (its affinity mask and cgroup CPU quota, so a job limited to 2 CPUs
    /// of a 64-core node starts 2), never more than the thread count OpenBLAS chose at
    /// start-up (so `OPENBLAS_NUM_THREADS=1` pins everything to one thread, for exact
    /// repeats). Reading it first starts the pool and turns OpenBLAS's threads off.
    nonisolated(unsafe) public static var workers: Int = {
        let blas = max(1, Int(openblas_get_num_threads()))
        openblas_set_num_threads(1)
        return lk_pool_start(defaultWorkers(blas: blas))
    }()

    static func defaultWorkers(blas: Int) -> Int {
        if let text = getenv("LOPPER_NUM_THREADS").map({ String(cString: $0) }), let n = Int(text), n >= 1 {
            return min(n, 64)
        }
        return max(1, min(blas, lk_available_cpus()))
    }

    /// Splits later work `n` ways (at most), starting pool threads as needed; returns the
    /// number in use.
    @discardableResult
    public static func use(_ n: Int) -> Int {
        workers = max(1, min(n, lk_pool_start(n)))
        return workers
    }

    /// The number of chunks `0..<n` is split into: several per worker, so that a worker
    /// another process keeps off its core holds back only a small part (the caller claims
    /// the rest). It depends on `n` and the worker count alone, so sums keep their order.
    public static func chunkCount(_ n: Int) -> Int { max(1, min(n, workers == 1 ? 1 : workers * chunksPerWorker)) }
    static let chunksPerWorker = 4

    /// Runs `body(chunk, range)` for consecutive, near-equal ranges covering `0..<n`,
    /// concurrently when there is more than one.
    public static func forEachChunk(_ n: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(n)
        if chunks == 1 { body(0, 0..<n); return }
        withoutActuallyEscaping({ (i: Int) in body(i, (i * n / chunks)..<((i + 1) * n / chunks)) }) { part in
            var part = part
            withUnsafeMutablePointer(to: &part) { context in
                lk_pool_run(chunks, { context, i in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(i)
                }, context)
            }
        }
    }
}

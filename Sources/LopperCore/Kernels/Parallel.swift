/// Batch-parallel loops for kernels whose products are too small for OpenBLAS to thread
/// (one convolution per sample). The split depends only on the count and the number of
/// workers, never on timing, so every chunk's sums run in the same order each time.

import CBLAS
import Dispatch

public enum Parallel {
    /// How many chunks a batch is split into: OpenBLAS's thread count, so
    /// `OPENBLAS_NUM_THREADS=1` pins everything to one thread.
    nonisolated(unsafe) public static var workers = max(1, Int(openblas_get_num_threads()))

    /// The number of chunks `0..<n` is split into.
    public static func chunkCount(_ n: Int) -> Int { max(1, min(n, workers)) }

    /// Runs `body(chunk, range)` for consecutive, near-equal ranges covering `0..<n`,
    /// concurrently when there is more than one.
    public static func forEachChunk(_ n: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(n)
        let range = { (i: Int) in (i * n / chunks)..<((i + 1) * n / chunks) }
        if chunks == 1 { body(0, 0..<n); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { i in body(i, range(i)) }
    }
}

import XCTest
@testable import LopperCore
import LopperKernels
import Foundation

/// The worker pool and the work split over it: every part runs once, results do not
/// depend on the number of workers.
final class ParallelTests: XCTestCase {
    override func tearDown() { Parallel.use(1) }

    func testEveryPartRunsOnceThroughSpinningAndSleepingWorkers() {
        Parallel.use(3)
        for round in 0..<300 {
            let n = 1 + round % 7
            var hits = [Int](repeating: 0, count: n)
            hits.withUnsafeMutableBufferPointer { h in
                Parallel.forEachChunk(n) { _, range in for i in range { h[i] += 1 } }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: n), "round \(round)")
            if round % 50 == 0 { usleep(1_000) }   // long enough for the workers to go to sleep
        }
    }

    func testNestedLoopsRunInline() {
        Parallel.use(2)
        var total = [Int](repeating: 0, count: 4)
        total.withUnsafeMutableBufferPointer { t in
            Parallel.forEachChunk(2) { chunk, _ in
                Parallel.forEachChunk(2) { inner, _ in t[chunk * 2 + inner] += 1 }
            }
        }
        XCTAssertEqual(total, [1, 1, 1, 1])
    }

    func testSplitProductsAgreeWithUnsplitOnesAndRepeatExactly() throws {
        let g = RandomGenerator(seed: 7)
        let a = try Tensor.randn([200, 300], generator: g), b = try Tensor.randn([300, 170], generator: g)
        let wide = try Tensor.randn([12, 300], generator: g), tall = try Tensor.randn([900, 40], generator: g)
        func products() throws -> [Tensor] {
            [try a.matmul(b), try b.transpose(0, 1).matmul(a.transpose(0, 1)),
             try wide.matmul(b), try b.transpose(0, 1).matmul(tall.narrow(0, 0, 300))]
        }
        Parallel.use(1)
        let one = try products()
        Parallel.use(3)
        let split = try products(), again = try products()
        for (i, (s, o)) in zip(split, one).enumerated() {
            // OpenBLAS may block the sums differently for a smaller part: agreement to
            // rounding, and bit-identical repeats for a fixed number of workers.
            XCTAssertLessThan(try s.sub(o).abs().max().item(), 1e-3, "product \(i)")
            XCTAssertEqual(s.toArray(), again[i].toArray(), "product \(i) repeats exactly")
        }
    }

    /// With one CPU-bound competitor per core, products split over the pool finish within
    /// a generous multiple of the same work on one thread (loose: this is a guard against
    /// the pool collapsing, as spinning pools do, not a benchmark).
    func testBusyMachineDoesNotCollapseThePool() throws {
        let g = RandomGenerator(seed: 3)
        let a = try Tensor.randn([256, 256], generator: g), b = try Tensor.randn([256, 256], generator: g)
        func seconds(workers: Int) throws -> Double {
            Parallel.use(workers)
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<150 { _ = try a.matmul(b) }
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        let cores = max(2, Int(lk_available_cpus()))
        let competitors = (0..<cores).map { _ -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "while :; do :; done"]
            try? p.run()
            return p
        }
        defer { for p in competitors where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        let one = try seconds(workers: 1), pool = try seconds(workers: 2)
        XCTAssertLessThan(pool, 3 * one + 0.5, "pool \(pool) s against one thread \(one) s")
    }
}

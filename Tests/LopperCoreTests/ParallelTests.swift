import XCTest
@testable import LopperCore

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
}

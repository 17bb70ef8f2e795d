import XCTest
@testable import LopperCore

/// The native batch-norm passes against the same arithmetic written with tensor ops, and
/// their first and second derivatives against finite differences.
final class NormalizationTests: XCTestCase {
    let g = RandomGenerator(seed: 21)
    func r(_ shape: [Int], _ low: Float = -1, _ high: Float = 2) -> Tensor { try! Tensor.rand(shape, low: low, high: high, generator: g) }

    /// (x − mean) / √(var + eps) · w + b with the statistics over every dim but 1.
    func composed(_ x: Tensor, _ w: Tensor, _ b: Tensor, eps: Float) throws -> Tensor {
        var stat = [Int](repeating: 1, count: x.rank)
        stat[1] = x.shape[1]
        func mean(_ t: Tensor) throws -> Tensor {
            var m = t
            for d in 0..<t.rank where d != 1 { m = try m.mean(dim: d, keepdim: true) }
            return m
        }
        let c = try x.sub(mean(x))
        return try c.div(mean(c.mul(c)).add(eps).sqrt()).mul(w.reshape(stat)).add(b.reshape(stat))
    }

    func testBatchNormMatchesComposedOpsOverShapesAndWorkers() throws {
        let saved = Parallel.workers
        defer { Parallel.workers = saved }
        // 4-d planes with and without a vector tail, [N, C, L], [N, C]; a large mean.
        for (shape, offset) in [([3, 5, 4, 4], Float(0)), ([2, 3, 3, 5], 0), ([4, 2, 9], 0), ([6, 4], 0), ([5, 3, 8, 8], 1000)] {
            for workers in [1, 3] {
                Parallel.workers = workers
                let x = try r(shape).add(offset), w = r([shape[1]]), b = r([shape[1]])
                for t in [x, w, b] { t.requiresGrad = true }
                let (y, mean, variance) = try x.batchNorm(weight: w, bias: b, eps: 1e-5)
                let want = try composed(x, w, b, eps: 1e-5)
                let label = "\(shape) + \(offset), \(workers) workers"
                XCTAssertLessThan(try y.sub(want).abs().max().item(), offset > 0 ? 2e-3 : 1e-4, label)
                let x0 = try x.select(1, 0).contiguous().toArray().map(Double.init)
                let m = x0.reduce(0, +) / Double(x0.count)
                XCTAssertEqual(Double(mean[0]), m, accuracy: 1e-4 * max(1, abs(m)), label)
                XCTAssertEqual(Double(variance[0]), x0.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x0.count), accuracy: 1e-4, label)
                let seed = r(shape)
                let fast = try y.gradients(wrt: [x, w, b], seed: seed)
                let reference = try want.gradients(wrt: [x, w, b], seed: seed)
                let recorded = try y.gradients(wrt: [x, w, b], seed: seed, createGraph: true)
                // Relative to the largest entry: the float reference itself loses digits at mean 1000.
                let tolerance: Float = offset > 0 ? 5e-3 : 1e-4
                for (name, ((f, ref), rec)) in zip(["input", "weight", "bias"], zip(zip(fast, reference), recorded)) {
                    let scale = max(1, try ref.abs().max().item())
                    XCTAssertLessThan(try f.sub(ref).abs().max().item() / scale, tolerance, "\(name) gradient, \(label)")
                    XCTAssertLessThan(try rec.sub(ref).abs().max().item() / scale, tolerance, "\(name) recorded gradient, \(label)")
                }
            }
        }
    }

    func testBatchNormGradientsAgainstFiniteDifferences() throws {
        let x = r([3, 2, 2, 2]), w = r([2]), b = r([2])
        if let m = try GradCheck.check([x, w, b], { v in try v[0].batchNorm(weight: v[1], bias: v[2], eps: 1e-5).output }) {
            XCTFail("batch_norm: \(m)")
        }
        let s = r([2]), t = r([2])
        if let m = try GradCheck.check([x, s, t], { v in try v[0].channelAffine(scale: v[1], shift: v[2]) }) {
            XCTFail("channel_affine: \(m)")
        }
    }

    func testBatchNormDoubleBackward() throws {
        // d/d(x, w) of (∂L/∂x · v), L = Σ bn(x)³ · u: the recorded backward differentiates again.
        let x = r([3, 2, 2, 2]), w = r([2]), b = r([2]), u = r([3, 2, 2, 2]), v = r([3, 2, 2, 2])
        if let m = try GradCheck.check([x, w], step: 1e-2, tolerance: 5e-2, { p in
            let loss = try p[0].batchNorm(weight: p[1], bias: b, eps: 1e-5).output.pow(3).mul(u).sum()
            let gx = try loss.gradients(wrt: [p[0]], createGraph: true)[0]
            return try gx.mul(v).sum()
        }) { XCTFail("batch_norm double backward: \(m)") }
        let s = r([2])
        if let m = try GradCheck.check([x, s], { p in
            let loss = try p[0].channelAffine(scale: p[1], shift: nil).pow(2).mul(u).sum()
            return try loss.gradients(wrt: [p[0]], createGraph: true)[0].mul(v).sum()
        }) { XCTFail("channel_affine double backward: \(m)") }
    }

    func testShapeErrors() {
        XCTAssertThrowsError(try r([4]).batchNorm(weight: r([4]), bias: r([4]), eps: 1e-5)) { e in
            XCTAssertTrue("\(e)".contains("batch_norm: expected an input of shape [N,C,...], got [4]"), "\(e)")
        }
        XCTAssertThrowsError(try r([2, 3, 4]).channelAffine(scale: r([2]), shift: nil)) { e in
            XCTAssertTrue("\(e)".contains("channel_affine: expected a scale of shape [3], got [2]"), "\(e)")
        }
    }
}

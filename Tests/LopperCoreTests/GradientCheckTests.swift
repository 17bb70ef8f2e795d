import XCTest
@testable import LopperCore

/// Every differentiable op against central finite differences. The checked quantity is
/// Σ f(x)·R for a fixed random R, so every output element's gradient matters.
final class GradientCheckTests: XCTestCase {
    func gradcheck(_ name: String, _ inputs: [Tensor], h: Float = 1e-2, tol: Float = 2e-2,
                   file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) throws -> Tensor) throws {
        if let m = try GradCheck.check(inputs, step: h, tolerance: tol, f) {
            XCTFail("\(name): \(m)", file: file, line: line)
        }
    }

    let g = RandomGenerator(seed: 5)
    func r(_ shape: [Int], _ low: Float = -1, _ high: Float = 1) -> Tensor { try! Tensor.rand(shape, low: low, high: high, generator: g) }

    func testElementwiseBinary() throws {
        try gradcheck("add", [r([2, 3]), r([3])]) { try $0[0].add($0[1]) }
        try gradcheck("sub", [r([2, 1]), r([1, 3])]) { try $0[0].sub($0[1]) }
        try gradcheck("mul", [r([2, 3]), r([2, 1])]) { try $0[0].mul($0[1]) }
        try gradcheck("div", [r([2, 3]), r([3], 0.5, 2)]) { try $0[0].div($0[1]) }
        try gradcheck("pow", [r([4], 0.5, 2), r([4], -1, 2)]) { try $0[0].pow($0[1]) }
        try gradcheck("maximum", [r([5]), r([5])]) { try $0[0].maximum($0[1]) }
        try gradcheck("minimum", [r([5]), r([1])]) { try $0[0].minimum($0[1]) }
        try gradcheck("where", [r([2, 2]), r([2])]) { try Tensor.where(T([2, 2], [1, 0, 0, 1]), $0[0], $0[1]) }
    }

    func testScalarAndUnary() throws {
        try gradcheck("scalars", [r([6], 0.5, 2)]) { try $0[0].add(1).mul(3).sub(2).div(4).rdiv(2).rsub(1) }
        try gradcheck("pow scalar", [r([6], 0.5, 2)]) { try $0[0].pow(3).add($0[0].pow(2)).add($0[0].pow(0.5)) }
        try gradcheck("rpow", [r([4])]) { try $0[0].rpow(2.5) }
        try gradcheck("neg abs", [r([6])]) { try $0[0].neg().abs() }
        try gradcheck("sqrt exp log", [r([6], 0.5, 2)]) { try $0[0].sqrt().add($0[0].exp()).add($0[0].log()) }
        try gradcheck("relu sigmoid tanh", [T([4], [-0.7, -0.2, 0.3, 0.9])]) { try $0[0].relu().add($0[0].sigmoid()).add($0[0].tanh()) }
        try gradcheck("clamp", [T([4], [-0.9, -0.2, 0.3, 0.9])]) { try $0[0].clamp(min: -0.5, max: 0.5) }
    }

    func testReductions() throws {
        try gradcheck("sum", [r([2, 3])]) { try $0[0].sum() }
        try gradcheck("sum dim", [r([2, 3, 2])]) { try $0[0].sum(dim: 1) }
        try gradcheck("mean keepdim", [r([2, 3])]) { try $0[0].mean(dim: 0, keepdim: true) }
        try gradcheck("max", [T([2, 3], [1, 5, 2, 7, 0, 3])]) { try $0[0].max() }
        try gradcheck("min dim", [T([2, 3], [1, 5, 2, 7, 0, 3])]) { try $0[0].min(dim: 1) }
        try gradcheck("norm 2", [r([2, 3])]) { try $0[0].norm() }
        try gradcheck("norm 1 dim", [r([2, 3])]) { try $0[0].norm(p: 1, dim: 1) }
        try gradcheck("norm inf", [T([3], [0.5, -2, 1])]) { try $0[0].norm(p: .infinity) }
        try gradcheck("norm 3", [r([4])]) { try $0[0].norm(p: 3) }
        try gradcheck("var std", [r([2, 4])]) { try $0[0].variance(dim: 1).add($0[0].std()) }
    }

    func testOrderStatisticsPassGradientsToTheChosenElements() throws {
        // Values spaced well beyond the finite-difference step, so the order never flips.
        let x = T([2, 4], [0.3, -0.9, 0.7, 0.1, -0.4, 0.9, 0.0, -0.6])
        try gradcheck("sort", [x]) { try $0[0].sort(dim: 1).values }
        try gradcheck("sort descending dim 0", [x]) { try $0[0].sort(dim: 0, descending: true).values }
        try gradcheck("topk", [x]) { try $0[0].topk(2, dim: 1).values }
        try gradcheck("kthvalue dim", [x]) { try $0[0].kthvalue(3, dim: 1).values }
        try gradcheck("kthvalue all", [x]) { try $0[0].kthvalue(5).values }
        let index = T([2, 2], [3, 0, 1, 1])
        try gradcheck("gather", [x]) { try $0[0].gather(dim: 1, index: index) }
        try gradcheck("scatter", [r([2, 2])]) { try $0[0].scatter(dim: 1, index: index, size: 4) }
        // The gradient of a sort puts each value's gradient back where the value was.
        let v = T([3], [2, 0, 1]); v.requiresGrad = true
        try v.sort().values.mul(T([3], [10, 20, 30])).sum().backward()
        XCTAssertEqual(v.grad?.toArray(), [30, 10, 20])
    }

    func testMatmul() throws {
        try gradcheck("matmul 2d", [r([3, 4]), r([4, 2])]) { try $0[0].matmul($0[1]) }
        try gradcheck("matmul transposed", [r([4, 3]), r([2, 4])]) { try $0[0].transpose(0, 1).matmul($0[1].transpose(0, 1)) }
        try gradcheck("matmul batched", [r([2, 3, 4]), r([4, 2])]) { try $0[0].matmul($0[1]) }
        try gradcheck("matmul vectors", [r([4]), r([4, 3]), r([3])]) { try $0[0].matmul($0[1]).matmul($0[2]) }
    }

    func testViews() throws {
        try gradcheck("reshape view", [r([2, 3])]) { try $0[0].reshape([3, 2]).view([6]).mul(T([6], [1, 2, 3, 4, 5, 6])) }
        try gradcheck("transpose permute", [r([2, 3, 2])]) { try $0[0].permute([2, 0, 1]).transpose(0, 2).contiguous() }
        try gradcheck("squeeze unsqueeze", [r([2, 1, 3])]) { try $0[0].squeeze().unsqueeze(0) }
        try gradcheck("narrow select", [r([3, 4])]) { try $0[0].narrow(1, 1, 2).select(0, 2) }
        try gradcheck("expand", [r([3, 1])]) { try $0[0].expand([3, 4]) }
        try gradcheck("cat stack", [r([2, 2]), r([2, 1])]) { try Tensor.stack([Tensor.cat([$0[0], $0[1]], dim: 1), Tensor.cat([$0[1], $0[0]], dim: 1)], dim: 0) }
        try gradcheck("clone", [r([3])]) { try $0[0].clone() }
    }

    func testLosses() throws {
        let target = T([3], [2, 1, 4])
        try gradcheck("log_softmax", [r([3, 4])]) { try $0[0].logSoftmax(dim: 1) }
        try gradcheck("softmax", [r([3, 4])]) { try $0[0].softmax(dim: 0) }
        try gradcheck("cross_entropy", [r([3, 4], -2, 2)]) { try $0[0].crossEntropy(target) }
        try gradcheck("cross_entropy smoothed", [r([3, 4], -2, 2)]) { try $0[0].crossEntropy(target, labelSmoothing: 0.1) }
        try gradcheck("nll", [r([3, 4])]) { try $0[0].logSoftmax(dim: 1).nllLoss(target) }
        try gradcheck("mse", [r([2, 3]), r([2, 3])]) { try $0[0].mseLoss($0[1]) }
    }

    func testLossValues() throws {
        // log-softmax of [0, ln 3] is [ln ¼, ln ¾]: cross-entropy of class 2 is −ln ¾.
        let logits = T([1, 2], [0, Float(log(3.0))])
        XCTAssertEqual(try logits.crossEntropy(T([1], [2])).item(), Float(-log(0.75)), accuracy: 1e-6)
        assertTensor(try logits.softmax(dim: 1), [1, 2], [0.25, 0.75])
        XCTAssertEqual(try T([2, 2], [1, 0, 0, 1]).accuracy(T([2], [1, 1])), 0.5)
        assertThrows("cross_entropy: target 3.0 is not a class index in 1..2") { _ = try logits.crossEntropy(T([1], [3])) }
    }

    /// Hessian-gradient products by double backward, against finite differences of the
    /// gradient: H·v ≈ (∇L(θ + hv) − ∇L(θ − hv)) / 2h. GraSP scores rest on this.
    func testHessianVectorProductByDoubleBackward() throws {
        let x = r([5, 3]), target = T([5], [1, 2, 2, 1, 2])
        let w1 = r([3, 4]), w2 = r([4, 2])
        let v1 = r([3, 4]), v2 = r([4, 2])
        func loss() throws -> Tensor { try x.matmul(w1).tanh().matmul(w2).crossEntropy(target) }
        w1.requiresGrad = true; w2.requiresGrad = true
        let grads = try loss().gradients(wrt: [w1, w2], createGraph: true)
        let gv = try grads[0].mul(v1).sum().add(grads[1].mul(v2).sum())
        let hv = try gv.gradients(wrt: [w1, w2])
        let h: Float = 1e-2
        func gradAt(_ sign: Float) throws -> [Tensor] {
            let saved = (try w1.clone().detach(), try w2.clone().detach())
            try Autograd.noGrad { try w1.add_(v1.mul(sign * h)); try w2.add_(v2.mul(sign * h)) }
            defer { Autograd.noGrad { try! w1.copy_(saved.0); try! w2.copy_(saved.1) } }
            return try loss().gradients(wrt: [w1, w2])
        }
        let up = try gradAt(1), down = try gradAt(-1)
        for k in 0..<2 {
            let numeric = try up[k].sub(down[k]).div(2 * h).toArray(), analytic = hv[k].toArray()
            for (a, n) in Swift.zip(analytic, numeric) { XCTAssertEqual(a, n, accuracy: 2e-3) }
        }
    }

    func testGradientsAccumulateAndGraphsAreChecked() throws {
        let x = T([2], [1, 2]); x.requiresGrad = true
        try x.mul(x).sum().backward()
        try x.mul(3).sum().backward()
        XCTAssertEqual(x.grad?.toArray(), [5, 7])
        assertThrows("backward: output of shape [2] is not a scalar") { try x.mul(2).backward() }
        assertThrows("backward: the tensor does not require grad") { try T([1], [1]).backward() }
        let y = try Autograd.noGrad { try x.mul(2) }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(x.detach().gradFn)
    }

    func testBackwardFreesTheGraphUnlessRetained() throws {
        let x = try Tensor.randn([10_000], generator: g); x.requiresGrad = true
        // The exp output (40 kB) is held only by the graph of `loss`.
        let loss = try x.exp().sum()
        let before = Storage.liveBytes
        try loss.backward()
        XCTAssertLessThanOrEqual(Storage.liveBytes, before, "the exp output went once used; x.grad (40 kB) took its place")
        assertThrows("backward: the graph through 'sum' was freed by an earlier backward; pass retain_graph = true") {
            try loss.backward()
        }
        let kept = try x.mul(x).sum()
        try kept.backward(retainGraph: true)
        try kept.backward()
        XCTAssertEqual(try x.grad!.sub(x.mul(4).add(x.exp())).abs().max().item(), 0, accuracy: 1e-3, "exp once, then 2x twice")
    }
}

import XCTest
import Foundation
import LopperCore
@testable import LopperNN
@testable import LopperPrune

/// Each score against a value computed another way on a tiny network.
final class ScoreTests: XCTestCase {
    let data = try! tinyDataset()

    func linearNet() throws -> (Module, [PrunableTensor]) {
        RandomGenerator.shared.reseed(11)
        let net = Sequential([Elementwise.flatten(), try Linear(4, 3), try Elementwise.tanh(), try Linear(3, 2)])
        net.inputShape = [1, 2, 2]
        return (net, try PrunableSelection().select(net))
    }

    /// Mean cross-entropy over the whole tiny data set (order does not matter).
    func fullLoss(_ net: Module, temperature: Float = 1) throws -> Float {
        let (x, y) = try data.batch(Array(0..<data.count)[...], flatten: false)
        return try Autograd.noGrad { try net.forward(x).div(temperature).crossEntropy(y).item() }
    }

    /// Central differences of the full-data loss with respect to every element of `t`.
    func numericGradient(_ net: Module, _ t: Tensor, h: Float = 1e-2, temperature: Float = 1) throws -> [Float] {
        try (0..<t.count).map { i in
            let v = t.data[i]
            t.data[i] = v + h; let up = try fullLoss(net, temperature: temperature)
            t.data[i] = v - h; let down = try fullLoss(net, temperature: temperature)
            t.data[i] = v
            return (up - down) / (2 * h)
        }
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tol: Float, _ what: String) {
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: tol * max(1, abs(y)), what) }
    }

    func testMagnitudeL2AndRandom() throws {
        let (net, targets) = try linearNet()
        let m = try Scores.compute(.magnitude, net: net, targets: targets)
        XCTAssertEqual(m[0].toArray(), targets[0].tensor.toArray().map(abs))
        XCTAssertEqual(try Scores.compute(.l2, net: net, targets: targets)[1].toArray(), targets[1].tensor.toArray().map { $0 * $0 })
        let r1 = try Scores.compute(.random, net: net, targets: targets), r2 = try Scores.compute(.random, net: net, targets: targets)
        XCTAssertNotEqual(r1[0].toArray(), r2[0].toArray())
        XCTAssertTrue(r1[0].toArray().allSatisfy { $0 >= 0 && $0 < 1 })
    }

    func testSNIPAndGradientMagnitudeMatchFiniteDifferences() throws {
        let (net, targets) = try linearNet()
        var d = ScoreData(dataset: data)
        d.batchSize = data.count
        let snip = try Scores.compute(.snip, net: net, targets: targets, data: d)
        let grad = try Scores.compute(.gradient, net: net, targets: targets, data: d)
        let taylor = try Scores.compute(.taylor, net: net, targets: targets, data: d)
        for (k, t) in targets.enumerated() {
            let g = try numericGradient(net, t.tensor)
            assertClose(snip[k].toArray(), zip(g, t.tensor.toArray()).map { abs($0 * $1) }, 2e-2, "snip \(t.name)")
            assertClose(grad[k].toArray(), g.map(abs), 2e-2, "gradient \(t.name)")
            assertClose(taylor[k].toArray(), snip[k].toArray(), 1e-5, "taylor \(t.name)")
        }
    }

    func testGraSPIsWeightTimesHessianGradientProduct() throws {
        let (net, targets) = try linearNet()
        var d = ScoreData(dataset: data)
        d.samplesPerClass = 20          // the whole data set
        d.temperature = 2
        let grasp = try Scores.compute(.grasp, net: net, targets: targets, data: d)
        // Hg by central differences of the gradient along g: (∇L(w + εg) − ∇L(w − εg)) / 2ε.
        let ws = targets.map { $0.tensor }
        func gradient() throws -> [[Float]] { try ws.map { try numericGradient(net, $0, h: 1e-2, temperature: 2) } }
        let g = try gradient()
        let eps: Float = 0.05
        func shift(_ s: Float) { for (w, gw) in zip(ws, g) { for i in 0..<w.count { w.data[i] += s * eps * gw[i] } } }
        shift(1); let up = try gradient()
        shift(-2); let down = try gradient()
        shift(1)
        for k in ws.indices {
            let hg = zip(up[k], down[k]).map { ($0 - $1) / (2 * eps) }
            let expected = zip(hg, ws[k].toArray()).map { $0 * $1 }
            let scale = max(expected.map(abs).max()!, 1e-3)
            for (a, e) in zip(grasp[k].toArray(), expected) { XCTAssertEqual(a, e, accuracy: 0.05 * scale, "grasp \(targets[k].name)") }
        }
    }

    func testSynFlowMatchesTheHandValueAndConservesFlow() throws {
        RandomGenerator.shared.reseed(2)
        let l1 = try Linear(3, 2, bias: false), l2 = try Linear(2, 1, bias: false)
        let net = Sequential([l1, try Elementwise.relu(), l2])
        net.inputShape = [3]
        let targets = try PrunableSelection().select(net)
        let before = net.parameters().map { $0.toArray() }
        let s = try Scores.compute(.synflow, net: net, targets: targets)
        XCTAssertEqual(net.parameters().map { $0.toArray() }, before)   // values restored
        let w1 = l1.weight.toArray().map(abs), w2 = l2.weight.toArray().map(abs)
        // Unscaled: score(W1[j,i]) = |W1[j,i]|·|W2[j]|, score(W2[j]) = |W2[j]|·Σᵢ|W1[j,i]|.
        var e1: [Float] = [], e2: [Float] = []
        for j in 0..<2 {
            for i in 0..<3 { e1.append(w1[j * 3 + i] * w2[j]) }
            e2.append(w2[j] * (0..<3).reduce(0) { $0 + w1[j * 3 + $1] })
        }
        // The scaled computation multiplies every score by one power of two.
        let c = s[0].toArray()[0] / e1[0]
        XCTAssertEqual(log2(c), log2(c).rounded(), accuracy: 1e-4)
        assertClose(s[0].toArray().map { $0 / c }, e1, 1e-5, "W1")
        assertClose(s[1].toArray().map { $0 / c }, e2, 1e-5, "W2")
        XCTAssertEqual(s[0].toArray().reduce(0, +), s[1].toArray().reduce(0, +), accuracy: 1e-5 * s[1].toArray().reduce(0, +))
    }

    func testSynFlowStaysFiniteOnADeepChainThatOverflowsUnscaled() throws {
        RandomGenerator.shared.reseed(4)
        let layers: [Module] = try (0..<30).map { _ in try Linear(400, 400, bias: false, init: .kaimingNormal) }
        let net = Sequential(layers)
        net.inputShape = [400]
        let targets = try PrunableSelection().select(net)
        // Without rescaling, R overflows float32.
        let copy = Sequential(try layers.map { l -> Module in
            let c = try Linear(400, 400, bias: false)
            try c.weight.copy_((l as! Linear).weight.abs())
            return c
        })
        let raw = try Autograd.noGrad { try copy.forward(Tensor(filled: 1, shape: [1, 400])).sum().item() }
        XCTAssertFalse(raw.isFinite)
        let s = try Scores.compute(.synflow, net: net, targets: targets)
        let sums = s.map { t in t.toArray().reduce(0.0) { $0 + Double($1) } }
        XCTAssertTrue(sums.allSatisfy { $0.isFinite && $0 > 0 })
        // Conservation: every layer carries the same total flow.
        for v in sums { XCTAssertEqual(v / sums[0], 1, accuracy: 1e-3) }
    }

    func testSynFlowOnResidualNetsIsFiniteAndUsesEvalMode() throws {
        RandomGenerator.shared.reseed(9)
        var o = Zoo.Options()
        o.channels = 3; o.size = 8
        let net = try Zoo.build("resnet20", o)
        let targets = try PrunableSelection().select(net)
        let s = try Scores.compute(.synflow, net: net, targets: targets)
        XCTAssertTrue(net.namedModules().allSatisfy { $0.1.training })   // mode restored
        for (t, v) in zip(targets, s) {
            XCTAssertTrue(v.toArray().allSatisfy { $0.isFinite })
            XCTAssertGreaterThan(try v.sum().item(), 0, t.name)
        }
    }

    func testStatisticsCountMACs() throws {
        let net = try Zoo.build("lenet5")
        let targets = try PrunableSelection().select(net)
        let stats = try PruneStatistics(net, targets: targets)
        XCTAssertEqual(stats.layers.map { $0.macs }, [117_600, 240_000, 48_000, 10_080, 840])
        XCTAssertEqual(stats.totalParameters, 61_706)
        try Pruner.prune(net, targets: targets, spec: PruneSpec(target: .density(0.5))) {
            try Scores.compute(.magnitude, net: net, targets: targets)
        }
        let after = try PruneStatistics(net, targets: targets)
        XCTAssertEqual(after.prunableNonzero, (61_470 / 2))
        XCTAssertEqual(after.layers[0].effectiveMACs, after.layers[0].nonzero * 28 * 28)
        let table = after.table()
        XCTAssertTrue(table.contains(targets[0].name) && table.contains("prunable") && table.contains("50.00%"), table)
    }
}

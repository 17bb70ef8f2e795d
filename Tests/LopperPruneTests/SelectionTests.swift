import XCTest
import LopperCore
@testable import LopperNN
@testable import LopperPrune

/// Exact counts for global and layer-wise amounts, allocation, overrides, collapse.
final class SelectionTests: XCTestCase {
    func net() throws -> (Module, [PrunableTensor]) {
        RandomGenerator.shared.reseed(5)
        let net = Sequential([Elementwise.flatten(), try Linear(10, 20), try Elementwise.relu(), try Linear(20, 5), try Elementwise.relu(), try Linear(5, 3)])
        net.inputShape = [10]
        return (net, try PrunableSelection().select(net))
    }

    func kept(_ targets: [PrunableTensor]) -> [Int] {
        targets.map { t in t.tensor.mask.map { MaskSet.counts($0).kept } ?? t.tensor.count }
    }

    @discardableResult
    func prune(_ net: Module, _ targets: [PrunableTensor], _ spec: PruneSpec, _ score: ScoreKind = .magnitude) throws -> PruneReport {
        try Pruner.prune(net, targets: targets, spec: spec) { try Scores.compute(score, net: net, targets: targets) }
    }

    func testLayerwiseAmountsAreExactAndCountWhatRemains() throws {
        let (net, targets) = try net()
        var spec = PruneSpec(target: .amount(0.2))
        spec.scope = .layer
        spec.overrides = ["5.weight": 0.1]
        try prune(net, targets, spec)
        XCTAssertEqual(kept(targets), [160, 80, 13])          // 200−40, 100−20, 15−round(1.5) = 15−2
        try prune(net, targets, spec)
        XCTAssertEqual(kept(targets), [128, 64, 12])          // 160−32, 80−16, 13−round(1.3)
    }

    func testGlobalAmountRemovesTheSmallestAcrossLayers() throws {
        let (net, targets) = try net()
        let all = targets.flatMap { $0.tensor.toArray().map(abs) }.sorted()
        try prune(net, targets, PruneSpec(target: .amount(0.5)))
        XCTAssertEqual(kept(targets).reduce(0, +), 315 - 158)   // round(157.5) = 158 (half to even)
        let threshold = all[157]
        for t in targets {
            for i in 0..<t.tensor.count {
                XCTAssertEqual(t.tensor.mask!.data[i] == 1, abs(t.tensor.data[i]) > threshold)
            }
        }
    }

    func testDensityTargetsAndERKSumToTheTarget() throws {
        let shapes = [[300, 784], [100, 300], [10, 100], [64, 3, 3, 3]]
        for allocation in Allocation.allCases {
            let d = allocation.densities(shapes: shapes, density: 0.1)
            let sizes = shapes.map { Double($0.reduce(1, *)) }
            let kept = zip(d, sizes).reduce(0) { $0 + $1.0 * $1.1 }
            XCTAssertEqual(kept / sizes.reduce(0, +), 0.1, accuracy: 1e-9, "\(allocation)")
            XCTAssertTrue(d.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        // ERK favours small layers; a layer past density 1 is made dense and the rest re-solved.
        let erk = Allocation.erk.densities(shapes: shapes, density: 0.1)
        XCTAssertGreaterThan(erk[2], erk[0])
        XCTAssertEqual(Allocation.erk.densities(shapes: [[1000, 1000], [2, 2]], density: 0.5)[1], 1)

        let (net, targets) = try net()
        var spec = PruneSpec(target: .density(0.2))
        spec.allocation = .erk
        let r = try prune(net, targets, spec)
        XCTAssertEqual(Double(kept(targets).reduce(0, +)) / 315, 0.2, accuracy: 2.0 / 315)
        XCTAssertEqual(r.reachedDensity, Double(kept(targets).reduce(0, +)) / 315)
    }

    func testIterativePruningReachesTheTargetExactly() throws {
        let (net, targets) = try net()
        var spec = PruneSpec(target: .density(0.1))
        spec.iterations = 7
        let r = try prune(net, targets, spec, .synflow)
        XCTAssertEqual(kept(targets).reduce(0, +), 32)   // round(31.5) = 32
        XCTAssertEqual(r.rounds, 7)
    }

    func testLayerCollapseIsDetectedAndMinPerLayerPreventsIt() throws {
        let (net, targets) = try net()
        // Scores that make the middle layer the least important: global pruning wipes it.
        let low: Pruner.ScoreFunction = {
            try targets.enumerated().map { i, t in try Tensor(filled: i == 1 ? 0.001 : 1, shape: t.tensor.shape) }
        }
        let r = try Pruner.prune(net, targets: targets, spec: PruneSpec(target: .amount(0.4)), score: low)
        XCTAssertEqual(r.collapsed, ["3.weight"])
        XCTAssertEqual(r.connected, false)

        let (net2, targets2) = try self.net()
        var spec = PruneSpec(target: .amount(0.4))
        spec.minPerLayer = 3
        let r2 = try Pruner.prune(net2, targets: targets2, spec: spec) {
            try targets2.enumerated().map { i, t in try Tensor(filled: i == 1 ? 0.001 : 1, shape: t.tensor.shape) }
        }
        XCTAssertEqual(r2.collapsed, [])
        XCTAssertEqual(kept(targets2)[1], 3)
        // The floor moves the removals to the other layers: the total is still exact.
        let total = targets2.reduce(0) { $0 + $1.tensor.count }
        XCTAssertEqual(kept(targets2).reduce(0, +), total - Int((0.4 * Double(total)).rounded(.toNearestOrEven)))
    }

    func testChannelPruningMasksWholeRowsBiasesAndTheFollowingNorm() throws {
        RandomGenerator.shared.reseed(3)
        let conv = try Conv2d(1, 4, kernel: (3, 3)), bn = try BatchNorm(4, spatial: true)
        let net = Sequential([conv, bn, try Elementwise.relu(), Elementwise.flatten(), try Linear(4 * 4 * 4, 2)])
        net.inputShape = [1, 6, 6]
        bn.weight.copyForTest([0.5, -2, 0.1, 1])
        var sel = PrunableSelection()
        sel.only = ["0.weight"]
        let targets = try sel.select(net)
        var spec = PruneSpec(target: .amount(0.5))
        spec.structure = .channel
        try Pruner.prune(net, targets: targets, spec: spec) { try Scores.compute(.bnScale, net: net, targets: targets) }
        // |γ| = 0.5, 2, 0.1, 1: channels 1 and 3 (0-based 0 and 2) go.
        let m = conv.weight.mask!
        for r in 0..<4 {
            let row = (0..<9).map { m.data[r * 9 + $0] }
            XCTAssertEqual(row, Array(repeating: r == 0 || r == 2 ? 0 : 1, count: 9))
        }
        XCTAssertEqual(conv.bias!.mask!.toArray(), [0, 1, 0, 1])
        XCTAssertEqual(bn.bias.mask!.toArray(), [0, 1, 0, 1])
        net.train(true)
        let y = try net.children[2].1.forward(try bn.forward(try conv.forward(try Tensor.randn([2, 1, 6, 6]))))
        for c in [0, 2] { XCTAssertEqual(try y.select(1, c).abs().sum().item(), 0) }
    }
}

extension Tensor {
    func copyForTest(_ values: [Float]) {
        for (i, v) in values.enumerated() { data[i] = v }
    }
}

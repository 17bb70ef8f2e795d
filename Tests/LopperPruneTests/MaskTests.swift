import XCTest
import Foundation
import LopperCore
@testable import LopperNN
@testable import LopperPrune

/// Masks hold through training, checkpoints and rewinding; mask algebra.
final class MaskTests: XCTestCase {
    func tinyNet(seed: UInt64 = 1) throws -> Module {
        RandomGenerator.shared.reseed(seed)
        let net = Sequential([Elementwise.flatten(), try Linear(4, 6), try Elementwise.relu(), try Linear(6, 2)])
        net.inputShape = [1, 2, 2]
        return net
    }

    func tinyData() throws -> Dataset { try tinyDataset() }
}

/// 40 random 2x2 images in two alternating classes.
func tinyDataset() throws -> Dataset {
    do {
        var images: [UInt8] = [], labels: [UInt8] = []
        let rng = RandomGenerator(seed: 7)
        for i in 0..<40 {
            labels.append(UInt8(i % 2))
            for _ in 0..<4 { images.append(UInt8(rng.integer(below: 256))) }
        }
        return try Dataset(name: "tiny", images: images, labels: labels, sampleShape: [1, 2, 2], classes: 2, mean: 0.5, std: 0.25)
    }
}

extension MaskTests {

    func prunedZeros(_ net: Module) -> (weights: Float, count: Int) {
        var sum: Float = 0, n = 0
        for (_, p) in net.namedParameters() {
            guard let m = p.mask else { continue }
            for i in 0..<p.count where m.data[i] == 0 { sum += abs(p.data[i]); n += 1 }
        }
        return (sum, n)
    }

    func testMasksHoldThroughTrainingWithMomentumAndAdam() throws {
        for useAdam in [false, true] {
            let net = try tinyNet()
            let targets = try PrunableSelection().select(net)
            let opt: Optimizer = useAdam ? try Adam(net.namedParameters(), lr: 0.01)
                                         : try SGD(net.namedParameters(), lr: 0.1, momentum: 0.9)
            // Momentum builds up before pruning: it must not revive removed weights.
            _ = try Trainer.train(net, data: try tinyData(), optimizer: opt, batchSize: 8, epochs: nil, iterations: 5)
            try Pruner.prune(net, targets: targets, spec: PruneSpec(target: .amount(0.5))) {
                try Scores.compute(.magnitude, net: net, targets: targets)
            }
            let removed = prunedZeros(net)
            XCTAssertEqual(removed.count, 18)   // half of 24 + 12 weights
            _ = try Trainer.train(net, data: try tinyData(), optimizer: opt, batchSize: 8, epochs: nil, iterations: 10)
            XCTAssertEqual(prunedZeros(net).weights, 0)
            for (i, p) in opt.params.enumerated() {
                guard let m = p.mask else { continue }
                for (_, s) in opt.state[i] where s.shape == p.shape {
                    for k in 0..<p.count where m.data[k] == 0 { XCTAssertEqual(s.data[k], 0) }
                }
            }
        }
    }

    func testMasksSurviveCheckpointsAndRewinding() throws {
        let net = try tinyNet()
        let targets = try PrunableSelection().select(net)
        let initial = try Snapshot(net)
        try Pruner.prune(net, targets: targets, spec: PruneSpec(target: .density(0.3))) {
            try Scores.compute(.magnitude, net: net, targets: targets)
        }
        let masks = try MaskSet.current(net, targets)
        let path = NSTemporaryDirectory() + "mask-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(path, net: net)
        let other = try tinyNet(seed: 2)
        try Checkpoint.load(path, net: other, requireRNG: false)
        let loaded = try MaskSet.current(other, try PrunableSelection().select(other))
        XCTAssertEqual(try masks.jaccard(loaded).overall, 1)
        XCTAssertEqual(prunedZeros(other).weights, 0)
        XCTAssertEqual(other.parameters().map { $0.toArray() }, net.parameters().map { $0.toArray() })
        // Rewinding to initialisation keeps the masks and zeroes removed weights.
        try initial.rewind(net)
        XCTAssertEqual(prunedZeros(net).weights, 0)
        XCTAssertEqual(try masks.jaccard(MaskSet.current(net, targets)).overall, 1)
        let w = net.namedParameters()[0].1, w0 = initial.state["1.weight"]!
        for i in 0..<w.count { XCTAssertEqual(w.data[i], w.mask!.data[i] * w0.data[i]) }
    }

    func testMaskAlgebra() throws {
        let a = try MaskSet([("w", try Tensor(shape: [4], values: [1, 1, 0, 0]))])
        let b = try MaskSet([("w", try Tensor(shape: [4], values: [1, 0, 1, 0]))])
        XCTAssertEqual(try a.union(b).mask("w")!.toArray(), [1, 1, 1, 0])
        XCTAssertEqual(try a.intersection(b).mask("w")!.toArray(), [1, 0, 0, 0])
        XCTAssertEqual(try a.difference(b).mask("w")!.toArray(), [0, 1, 0, 0])
        XCTAssertEqual(try a.inverted().mask("w")!.toArray(), [0, 0, 1, 1])
        XCTAssertEqual(try a.jaccard(b).overall, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(a.count.kept, 2)
        let big = try MaskSet([("w", try Tensor(shape: [1000], values: (0..<1000).map { $0 < 100 ? 1 : 0 }))])
        let shuffled = try big.shuffled(RandomGenerator(seed: 3))
        XCTAssertEqual(shuffled.count.kept, 100)
        XCTAssertLessThan(try shuffled.jaccard(big).overall, 0.3)
        XCTAssertThrowsError(try MaskSet([("w", try Tensor(shape: [1], values: [0.5]))]))
        XCTAssertThrowsError(try a.union(try MaskSet([("v", try Tensor(shape: [4], values: [1, 1, 1, 1]))])))
    }
}

extension MaskTests {
    func testLoadingADenseCheckpointKeepsTheMasks() throws {
        let net = try tinyNet()
        let path = NSTemporaryDirectory() + "dense-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(path, net: net)                  // dense initial weights
        let targets = try PrunableSelection().select(net)
        try Pruner.prune(net, targets: targets, spec: PruneSpec(target: .density(0.5))) {
            try Scores.compute(.magnitude, net: net, targets: targets)
        }
        try Checkpoint.load(path, net: net, requireRNG: false)   // rewinding by checkpoint
        XCTAssertEqual(try MaskSet.current(net, targets).count.kept, 18)
        XCTAssertEqual(prunedZeros(net).weights, 0)
    }
}

import XCTest
@testable import LopperNN
import LopperCore

final class TrainerTests: XCTestCase {
    /// 2 classes of 6x6 images: a bright top half or a bright bottom half, with noise.
    func halves(_ n: Int, seed: UInt64) throws -> Dataset {
        let g = RandomGenerator(seed: seed)
        var images: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<n {
            let top = i % 2 == 0
            for r in 0..<6 { for _ in 0..<6 {
                let bright = (r < 3) == top
                images.append(UInt8(bright ? 150 + g.integer(below: 100) : g.integer(below: 100)))
            } }
            labels.append(top ? 0 : 1)
        }
        return try Dataset(name: "halves", images: images, labels: labels, sampleShape: [1, 6, 6], classes: 2, mean: 0.5, std: 0.3)
    }

    func model() throws -> Module {
        Sequential([try Conv2d(1, 2, kernel: (3, 3), padding: (1, 1)), try Elementwise.relu(), Pool2d.max(2),
                    Elementwise.flatten(), try Linear(18, 2)])
    }

    func testTrainsAndEvaluates() throws {
        RandomGenerator.shared.reseed(1)
        let data = try halves(64, seed: 2), net = try model()
        let opt = try Adam(net.namedParameters(), lr: 0.02)
        var losses: [Float] = [], epochs: [Int] = []
        let r = try Trainer.train(net, data: data, optimizer: opt, batchSize: 16, epochs: 5, iterations: nil,
                                  onStep: { losses.append($0.loss); return true },
                                  onEpoch: { epochs.append($0.epoch); return true })
        XCTAssertEqual(r.iterations, 20)
        XCTAssertEqual(r.samples, 320)
        XCTAssertEqual(epochs, [1, 2, 3, 4, 5])
        XCTAssertLessThan(losses.suffix(4).reduce(0, +), losses.prefix(4).reduce(0, +) / 2)
        let ev = try Trainer.evaluate(net, data: try halves(40, seed: 3))
        XCTAssertGreaterThan(ev.accuracy, 0.9)
        XCTAssertEqual(ev.count, 40)
        XCTAssertTrue(net.training, "evaluate restores the training flag")
    }

    func testCallbacksStopAndIterationLimits() throws {
        RandomGenerator.shared.reseed(1)
        let data = try halves(64, seed: 2), net = try model()
        let opt = try SGD(net.namedParameters(), lr: 0.1)
        let r = try Trainer.train(net, data: data, optimizer: opt, batchSize: 10, epochs: nil, iterations: 9)
        XCTAssertEqual(r.iterations, 9)
        XCTAssertEqual(r.epochs, 2)
        let stopped = try Trainer.train(net, data: data, optimizer: opt, batchSize: 10, epochs: 3, iterations: nil,
                                        onStep: { $0.iteration < 12 })
        XCTAssertTrue(stopped.stoppedEarly)
        XCTAssertEqual(stopped.iterations, 3)
    }

    func testSameSeedGivesBitIdenticalTraining() throws {
        func run() throws -> [Float] {
            RandomGenerator.shared.reseed(42)
            let net = try model()
            let opt = try SGD(net.namedParameters(), lr: 0.1, momentum: 0.9)
            _ = try Trainer.train(net, data: try halves(48, seed: 5), optimizer: opt, batchSize: 8, epochs: 2, iterations: nil)
            return net.parameters().flatMap { $0.toArray() }
        }
        XCTAssertEqual(try run(), try run())
    }
}

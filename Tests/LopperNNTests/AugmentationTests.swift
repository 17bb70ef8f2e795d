import XCTest
@testable import LopperNN
import LopperCore

/// Crops, flips and normalisation applied as batches are drawn; evaluation per class,
/// with a transform; prediction by batches.
final class AugmentationTests: XCTestCase {
    /// One 1x3x3 image holding 1 … 9 row by row.
    func image() throws -> Dataset {
        let x = try Tensor(shape: [1, 1, 3, 3])
        for k in 0..<9 { x.data[k] = Float(k + 1) }
        return try Dataset(name: "img", x: x, labels: [0], classes: 1)
    }

    func values(_ ds: Dataset) throws -> [Float] {
        let x = try ds.batch([0][...], flatten: true).x
        return (0..<x.count).map { x.data[$0] }
    }

    func testEveryCropAndFlipIsAShiftOfThePaddedImage() throws {
        var a = Augmentation()
        a.padding = 1
        a.flip = true
        let ds = try image().augmented(a)
        let original: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        // Every outcome is the image shifted by dy, dx ∈ {-1, 0, 1}, maybe mirrored, zeros where it left.
        var expected = Set<[Float]>()
        for dy in -1...1 { for dx in -1...1 { for mirror in [false, true] {
            expected.insert((0..<9).map { k in
                let i = k / 3 + dy, j = (mirror ? 2 - k % 3 : k % 3) + dx
                return i >= 0 && i < 3 && j >= 0 && j < 3 ? original[i * 3 + j] : 0
            })
        } } }
        var seen = Set<[Float]>()
        RandomGenerator.shared.reseed(5)
        for _ in 0..<400 {
            let v = try values(ds)
            XCTAssertTrue(expected.contains(v), "\(v) is not a crop or flip of the image")
            seen.insert(v)
        }
        XCTAssertEqual(seen.count, expected.count, "all 18 crops and flips occur")
        // Seeded: the same draws again.
        RandomGenerator.shared.reseed(5)
        let first = try values(ds)
        RandomGenerator.shared.reseed(5)
        XCTAssertEqual(try values(ds), first)
    }

    func testCropsOfNormalisedBytesPadWithBlack() throws {
        // A white 3x2x2 image of bytes, normalised per channel; pad 2 = every crop leaves some padding or none.
        let ds = try Dataset(name: "white", images: [UInt8](repeating: 255, count: 12), labels: [0], sampleShape: [3, 2, 2],
                             classes: 1, channelMean: [0.5, 0.25, 0], channelStd: [0.5, 0.25, 1])
        var a = Augmentation()
        a.padding = 2
        let aug = try ds.augmented(a)
        RandomGenerator.shared.reseed(1)
        var sawPadding = false
        for _ in 0..<50 {
            let v = try values(aug)
            for k in 0..<12 {
                let white: Float = [1, 3, 1][k / 4], black: Float = [-1, -1, 0][k / 4]
                XCTAssertTrue(v[k] == white || v[k] == black, "channel \(k / 4): \(v[k])")
                if v[k] == black && black != white { sawPadding = true }
            }
        }
        XCTAssertTrue(sawPadding)
    }

    func testNormalisationAndTransformRunAfterTheCrop() throws {
        var a = Augmentation()
        a.mean = [1]
        a.std = [2]
        a.transform = { x, y in (try x.mul(10), y) }
        XCTAssertEqual(try values(try image().augmented(a)), (1...9).map { (Float($0) - 1) / 2 * 10 })
        var bad = Augmentation()
        bad.padding = 1
        XCTAssertThrowsError(try Dataset(name: "flat", x: try Tensor.zeros([2, 4]), labels: [0, 0], classes: 1).augmented(bad))
        bad = Augmentation()
        bad.mean = [0, 0]
        bad.std = [1]
        XCTAssertThrowsError(try image().augmented(bad))
        XCTAssertNil(try image().augmented(a).augmented(nil).augmentation)
    }

    func testEvaluateCountsEachClassAndAppliesTheTransform() throws {
        // Inputs are one-hot rows of the class they should be; the identity net is right unless the transform swaps.
        let x = try Tensor.zeros([4, 2]), labels: [Int32] = [0, 1, 1, 1]
        x.data[0] = 1; x.data[3] = 1; x.data[5] = 1; x.data[6] = 1     // row 3 is wrong: class 0's pattern for class 1
        let ds = try Dataset(name: "onehot", x: x, labels: labels, classes: 3)
        let net = try Linear(2, 2)
        try Autograd.noGrad {
            net.weight.zero_(); net.weight.data[0] = 1; net.weight.data[3] = 1
            net.bias?.zero_()
        }
        let ev = try Trainer.evaluate(net, data: ds, batchSize: 3)
        XCTAssertEqual(ev.count, 4)
        XCTAssertEqual(ev.accuracy, 0.75)
        XCTAssertEqual(ev.perClass[0], 1)
        XCTAssertEqual(ev.perClass[1], 2.0 / 3, accuracy: 1e-12)
        XCTAssertTrue(ev.perClass[2].isNaN, "no sample of class 3")
        let flipped = try Trainer.evaluate(net, data: ds, transform: { x, y in (try x.neg(), y) })
        XCTAssertEqual(flipped.accuracy, 0.25, "the transform reached the forward pass")
    }

    func testPredictMatchesOneForwardPassAndRestoresTheMode() throws {
        let net = Sequential([try Linear(3, 2), try Dropout(0.5)])
        let x = try Tensor.randn([7, 3])
        let out = try Trainer.predict(net, x, batchSize: 3)
        XCTAssertTrue(net.training)
        net.train(false)
        let direct = try net.forward(x)
        XCTAssertEqual(out.shape, [7, 2])
        for k in 0..<out.count { XCTAssertEqual(out.data[k], direct.data[k], accuracy: 1e-5) }
        XCTAssertThrowsError(try Trainer.predict(net, x, batchSize: 0))
    }

    func testPrefetchChangesNoBatch() throws {
        // 37 images of 2x4x4, cropped, flipped, normalised and transformed, shuffled, in
        // batches of 5 (the last smaller): with and without prefetch, and with other draws
        // from the shared generator between batches (what dropout does), the same bits.
        let x = try Tensor.rand([37, 2, 4, 4], low: 0, high: 1, generator: RandomGenerator(seed: 3))
        var a = Augmentation()
        (a.padding, a.flip, a.mean, a.std) = (2, true, [0.5, 0.25], [2, 4])
        a.transform = { x, y in (try x.mul(3), y) }
        let ds = try Dataset(name: "t", x: x, labels: (0..<37).map { Int32($0 % 3) }, classes: 3).augmented(a)
        func pass(prefetch: Bool, interfere: Bool) throws -> [[Float]] {
            let it = try BatchIterator(ds, batchSize: 5, shuffle: true, seed: 77, flatten: false, dropLast: false, prefetch: prefetch)
            var out: [[Float]] = []
            while let (x, y) = try it.next() {
                if interfere { for _ in 0..<10 { _ = RandomGenerator.shared.next() } }
                out.append(x.toArray() + y.toArray())
            }
            return out
        }
        let plain = try pass(prefetch: false, interfere: false)
        XCTAssertEqual(plain.count, 8)
        XCTAssertEqual(try pass(prefetch: true, interfere: false), plain)
        XCTAssertEqual(try pass(prefetch: true, interfere: true), plain)
        XCTAssertEqual(try pass(prefetch: false, interfere: true), plain)
        // Batches differ from one another (the crops are drawn per batch, not repeated).
        XCTAssertNotEqual(plain[0], plain[1])
        // An iterator left half-way (a loop that breaks) leaves its pending batch to finish
        // on the shared queue; the next pass is not held up or changed by it.
        do {
            let it = try BatchIterator(ds, batchSize: 5, shuffle: true, seed: 77, flatten: false, dropLast: false)
            XCTAssertEqual(try it.next().map { $0.x.toArray() + $0.y.toArray() }, plain[0])
        }
        XCTAssertEqual(try pass(prefetch: true, interfere: false), plain)
    }
}

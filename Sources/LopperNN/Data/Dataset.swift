import Foundation
import LopperCore

/// A labelled image data set kept as bytes in memory (Fashion-MNIST is 47 MB as bytes,
/// 188 MB as floats); batches are converted to normalised Float32 when drawn.
public final class Dataset {
    public let name: String
    let images: [UInt8]
    let labels: [UInt8]
    /// The samples of `images` this data set covers (a split shares the bytes).
    let samples: [Int]
    /// Shape of one sample, channels first: [1, 28, 28].
    public let sampleShape: [Int]
    public let classes: Int
    /// Normalisation: x = (byte / 255 − mean[c]) / std[c], one pair for every channel or
    /// one for all (CIFAR's per-channel statistics; Fashion-MNIST's one pair).
    public let mean: [Float], std: [Float]

    public var count: Int { samples.count }
    var sampleSize: Int { sampleShape.reduce(1, *) }

    public convenience init(name: String, images: [UInt8], labels: [UInt8], sampleShape: [Int], classes: Int,
                            mean: Float, std: Float, samples: [Int]? = nil) throws {
        try self.init(name: name, images: images, labels: labels, sampleShape: sampleShape, classes: classes,
                      channelMean: [mean], channelStd: [std], samples: samples)
    }

    public init(name: String, images: [UInt8], labels: [UInt8], sampleShape: [Int], classes: Int,
                channelMean mean: [Float], channelStd std: [Float], samples: [Int]? = nil) throws {
        let size = sampleShape.reduce(1, *)
        let channels = sampleShape.first ?? 1
        guard mean.count == std.count, mean.count == 1 || mean.count == channels, std.allSatisfy({ $0 > 0 }) else {
            throw TensorError("dataset \(name): expected one mean and std, or one per channel (\(channels)), all std positive; got \(mean.count) and \(std.count)")
        }
        guard size > 0, images.count % size == 0, images.count / size == labels.count else {
            throw TensorError("dataset \(name): \(images.count) image bytes do not make \(labels.count) samples of shape \(describeShape(sampleShape))")
        }
        if let bad = labels.first(where: { Int($0) >= classes }) {
            throw TensorError("dataset \(name): label \(bad) is outside 0..\(classes - 1)")
        }
        self.name = name
        self.images = images
        self.labels = labels
        self.samples = samples ?? Array(0..<labels.count)
        self.sampleShape = sampleShape
        self.classes = classes
        self.mean = mean
        self.std = std
    }

    /// The first count−n samples and the last n (Frankle & Carbin hold out the last 5,000
    /// training images for validation).
    public func split(last n: Int) throws -> (Dataset, Dataset) {
        guard n >= 0 && n < count else { throw TensorError("split: cannot hold out \(n) of \(count) samples") }
        func part(_ s: ArraySlice<Int>, _ suffix: String) throws -> Dataset {
            try Dataset(name: name + suffix, images: images, labels: labels, sampleShape: sampleShape, classes: classes,
                        channelMean: mean, channelStd: std, samples: Array(s))
        }
        return (try part(samples.dropLast(n), ""), try part(samples.suffix(n), "-validation"))
    }

    /// The 0-based class of the sample at `position`.
    public func label(_ position: Int) -> Int { Int(labels[samples[position]]) }

    /// Samples `which` (positions in this data set) as x [B, …sampleShape] or [B, features]
    /// when flattened, and y [B] holding classes 1-based.
    public func batch(_ which: ArraySlice<Int>, flatten: Bool) throws -> (x: Tensor, y: Tensor) {
        let size = sampleSize, b = which.count
        let x = try Tensor(shape: flatten ? [b, size] : [b] + sampleShape), y = try Tensor(shape: [b])
        // One lookup table of 256 values per channel: the per-sample loop stays a gather.
        let channels = mean.count, plane = size / channels
        var table = [Float](repeating: 0, count: 256 * channels)
        for c in 0..<channels { for v in 0..<256 { table[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] } }
        images.withUnsafeBufferPointer { img in
            table.withUnsafeBufferPointer { lut in
                for (row, position) in which.enumerated() {
                    let s = samples[position]
                    let src = img.baseAddress! + s * size, dst = x.data + row * size
                    for c in 0..<channels {
                        let l = lut.baseAddress! + c * 256, o = c * plane
                        for k in o..<(o + plane) { dst[k] = l[Int(src[k])] }
                    }
                    y.data[row] = Float(labels[s]) + 1
                }
            }
        }
        return (x, y)
    }
}

/// Draws the batches of one pass over a data set, in order or shuffled with its own seed.
public final class BatchIterator {
    public let dataset: Dataset
    public let batchSize: Int
    let order: [Int]
    let flatten: Bool
    var position = 0

    public init(_ dataset: Dataset, batchSize: Int, shuffle: Bool, seed: UInt64, flatten: Bool, dropLast: Bool) throws {
        guard batchSize >= 1 else { throw TensorError("batches: batch size must be at least 1, got \(batchSize)") }
        self.dataset = dataset
        self.batchSize = batchSize
        var order = Array(0..<dataset.count)
        if shuffle { Tensor.shuffle(&order, generator: RandomGenerator(seed: seed)) }
        if dropLast { order.removeLast(order.count % batchSize) }
        self.order = order
        self.flatten = flatten
    }

    /// The next batch, or nil at the end of the pass.
    public func next() throws -> (x: Tensor, y: Tensor)? {
        guard position < order.count else { return nil }
        let end = min(position + batchSize, order.count)
        defer { position = end }
        return try dataset.batch(order[position..<end], flatten: flatten)
    }

    public var batchCount: Int { (order.count + batchSize - 1) / batchSize }
}

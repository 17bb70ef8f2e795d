import Foundation
import LopperCore

/// A data set in memory: inputs as bytes (images: Fashion-MNIST is 47 MB as bytes, 188 MB
/// as floats), normalised to Float32 when a batch is drawn, or as a float tensor; targets
/// as classes or as a float tensor (regression, distillation). Subsets and splits share the
/// storage and list the samples they cover.
public final class Dataset {
    /// The inputs of every stored sample.
    enum Inputs {
        /// x = (byte / 255 − mean[c]) / std[c], one pair for every channel or one for all.
        case bytes([UInt8], mean: [Float], std: [Float])
        /// A contiguous tensor [N, …sampleShape].
        case floats(Tensor)
    }

    /// The targets of every stored sample.
    enum Targets {
        /// 0-based classes (1-based in batches).
        case classes([Int32])
        /// A contiguous tensor [N, …].
        case values(Tensor)
    }

    public let name: String
    let inputs: Inputs
    let targets: Targets
    /// The stored samples this data set covers, in order.
    let samples: [Int]
    /// Shape of one sample, channels first: [1, 28, 28].
    public let sampleShape: [Int]
    /// The number of classes; 0 when the targets are values.
    public let classes: Int
    /// What each batch goes through as it is drawn (training sets: crops, flips).
    public let augmentation: Augmentation?

    public var count: Int { samples.count }
    var sampleSize: Int { sampleShape.reduce(1, *) }

    public convenience init(name: String, images: [UInt8], labels: [UInt8], sampleShape: [Int], classes: Int,
                            mean: Float, std: Float) throws {
        try self.init(name: name, images: images, labels: labels, sampleShape: sampleShape, classes: classes,
                      channelMean: [mean], channelStd: [std])
    }

    /// Byte images and byte labels (0-based), as the IDX and CIFAR files hold them.
    public convenience init(name: String, images: [UInt8], labels: [UInt8], sampleShape: [Int], classes: Int,
                            channelMean mean: [Float], channelStd std: [Float]) throws {
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
        try self.init(name: name, inputs: .bytes(images, mean: mean, std: std), targets: .classes(labels.map { Int32($0) }),
                      samples: Array(0..<labels.count), sampleShape: sampleShape, classes: classes)
    }

    /// Tensors: inputs `x` [N, …] and either classes `labels` (0-based) or value targets `y` [N, …].
    public convenience init(name: String, x: Tensor, labels: [Int32], classes: Int) throws {
        guard x.rank >= 1, x.shape[0] == labels.count else {
            throw TensorError("dataset \(name): x of shape \(describeShape(x.shape)) and \(labels.count) labels do not pair")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw TensorError("dataset \(name): class \(bad + 1) is outside 1..\(classes)")
        }
        try self.init(name: name, inputs: .floats(try x.contiguous()), targets: .classes(labels),
                      samples: Array(0..<labels.count), sampleShape: Array(x.shape.dropFirst()), classes: classes)
    }

    public convenience init(name: String, x: Tensor, values y: Tensor) throws {
        guard x.rank >= 1, y.rank >= 1, x.shape[0] == y.shape[0] else {
            throw TensorError("dataset \(name): x of shape \(describeShape(x.shape)) and y of shape \(describeShape(y.shape)) do not pair (both N×…)")
        }
        try self.init(name: name, inputs: .floats(try x.contiguous()), targets: .values(try y.contiguous()),
                      samples: Array(0..<x.shape[0]), sampleShape: Array(x.shape.dropFirst()), classes: 0)
    }

    /// The most classes a data set may have: per-class counts are kept in arrays that size.
    public static let maxClasses = 1 << 24

    init(name: String, inputs: Inputs, targets: Targets, samples: [Int], sampleShape: [Int], classes: Int,
         augmentation: Augmentation? = nil) throws {
        guard classes >= 0, classes <= Dataset.maxClasses else {
            throw TensorError("dataset \(name): \(classes) classes; expected 1 to \(Dataset.maxClasses)")
        }
        self.name = name
        self.inputs = inputs
        self.targets = targets
        self.samples = samples
        self.sampleShape = sampleShape
        self.classes = classes
        try augmentation?.check(sampleShape)
        self.augmentation = augmentation
    }

    /// The same samples, sharing the storage, with `augmentation` applied to every batch.
    public func augmented(_ augmentation: Augmentation?) throws -> Dataset {
        try Dataset(name: name + (augmentation == nil ? "" : "-augmented"), inputs: inputs, targets: targets, samples: samples,
                    sampleShape: sampleShape, classes: classes, augmentation: augmentation)
    }

    /// The samples at `positions` (of this data set) as a data set sharing the storage.
    public func subset(_ positions: [Int], name suffix: String = "-subset") throws -> Dataset {
        if let bad = positions.first(where: { $0 < 0 || $0 >= count }) {
            throw TensorError("subset: index \(bad + 1) is outside 1..\(count)")
        }
        return try Dataset(name: name + suffix, inputs: inputs, targets: targets, samples: positions.map { samples[$0] },
                           sampleShape: sampleShape, classes: classes, augmentation: augmentation)
    }

    /// The first count−n samples and the last n (Frankle & Carbin hold out the last 5,000
    /// training images for validation).
    public func split(last n: Int) throws -> (Dataset, Dataset) {
        guard n >= 0 && n < count else { throw TensorError("split: cannot hold out \(n) of \(count) samples") }
        return (try subset(Array(0..<(count - n)), name: ""), try subset(Array((count - n)..<count), name: "-validation"))
    }

    /// Consecutive parts of the given sizes, in `order` (positions; default 0..<count); a
    /// last part takes what the sizes leave.
    public func split(sizes: [Int], order: [Int]? = nil) throws -> [Dataset] {
        let order = order ?? Array(0..<count)
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) <= count else {
            throw TensorError("split: sizes \(sizes) do not fit \(count) samples (each at least 0, in all at most \(count))")
        }
        var parts: [Dataset] = [], from = 0
        for (k, n) in sizes.enumerated() {
            parts.append(try subset(Array(order[from..<(from + n)]), name: "-part\(k + 1)"))
            from += n
        }
        if from < count { parts.append(try subset(Array(order[from...]), name: "-part\(sizes.count + 1)")) }
        return parts
    }

    /// Up to `n` samples of every class, taken in `order` (positions), so each class keeps
    /// the order it has there.
    public func perClass(_ n: Int, order: [Int]? = nil) throws -> Dataset {
        guard classes > 0 else { throw TensorError("per_class: the data set has value targets, not classes") }
        guard n >= 1 else { throw TensorError("per_class: expected at least 1 sample a class, got \(n)") }
        var taken = [Int](repeating: 0, count: classes), picked: [Int] = []
        for i in order ?? Array(0..<count) {
            let c = label(i)
            if taken[c] < n { taken[c] += 1; picked.append(i) }
            if picked.count == n * classes { break }
        }
        return try subset(picked, name: "-per-class")
    }

    /// The 0-based class of the sample at `position` (a data set with classes).
    public func label(_ position: Int) -> Int {
        guard case .classes(let labels) = targets else { return 0 }
        return Int(labels[samples[position]])
    }

    /// Samples `which` (positions in this data set) as x [B, …sampleShape] or [B, features]
    /// when flattened, and y [B] holding classes 1-based (or [B, …] values).
    /// Augmented data sets draw their crops and flips from `generator`.
    public func batch(_ which: ArraySlice<Int>, flatten: Bool, generator: RandomGenerator = .shared) throws -> (x: Tensor, y: Tensor) {
        try finish(assembled(which, flatten: flatten, generator: generator), flatten: flatten)
    }

    /// The native part of `batch`: gathered and natively augmented, safe on another thread
    /// (no Lua runs here).
    func assembled(_ which: ArraySlice<Int>, flatten: Bool, generator: RandomGenerator) throws -> (x: Tensor, y: Tensor) {
        guard let augmentation else { return try rawBatch(which, flatten: flatten) }
        let (x, y) = try rawBatch(which, flatten: false)
        try augmentation.apply(x, fill: blackPixel, generator: generator)
        return (x, y)
    }

    /// The rest of `batch`, on the caller's thread: the transform (a Lua function may be
    /// one), then flattening.
    func finish(_ batch: (x: Tensor, y: Tensor), flatten: Bool) throws -> (x: Tensor, y: Tensor) {
        guard let augmentation else { return batch }
        var (x, y) = batch
        if let f = augmentation.transform { (x, y) = try f(x, y) }
        return (flatten ? try x.reshape([x.shape[0], x.count / max(1, x.shape[0])]) : x, y)
    }

    /// The value a black (zero) pixel has once normalised, per channel: what crops pad with.
    var blackPixel: [Float] {
        if case let .bytes(_, mean, std) = inputs { return zip(mean, std).map { -$0 / $1 } }
        return [0]
    }

    /// The samples as stored (normalised bytes, or the float rows), before any augmentation.
    func rawBatch(_ which: ArraySlice<Int>, flatten: Bool) throws -> (x: Tensor, y: Tensor) {
        let size = sampleSize, b = which.count
        let x = try Tensor(shape: flatten ? [b, size] : [b] + sampleShape)
        switch inputs {
        case let .bytes(images, mean, std):
            // One lookup table of 256 values per channel: the per-sample loop stays a gather.
            let channels = mean.count, plane = size / channels
            var table = [Float](repeating: 0, count: 256 * channels)
            for c in 0..<channels { for v in 0..<256 { table[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] } }
            images.withUnsafeBufferPointer { img in
                table.withUnsafeBufferPointer { lut in
                    for (row, position) in which.enumerated() {
                        let src = img.baseAddress! + samples[position] * size, dst = x.data + row * size
                        for c in 0..<channels {
                            let l = lut.baseAddress! + c * 256, o = c * plane
                            for k in o..<(o + plane) { dst[k] = l[Int(src[k])] }
                        }
                    }
                }
            }
        case let .floats(t):
            for (row, position) in which.enumerated() {
                (x.data + row * size).update(from: t.data + samples[position] * size, count: size)
            }
        }
        switch targets {
        case let .classes(labels):
            let y = try Tensor(shape: [b])
            for (row, position) in which.enumerated() { y.data[row] = Float(labels[samples[position]]) + 1 }
            return (x, y)
        case let .values(t):
            let width = t.count / max(1, t.shape[0])
            let y = try Tensor(shape: [b] + t.shape.dropFirst())
            for (row, position) in which.enumerated() {
                (y.data + row * width).update(from: t.data + samples[position] * width, count: width)
            }
            return (x, y)
        }
    }
}

/// Draws the batches of one pass over a data set, in order or shuffled with its own seed.
/// With `prefetch`, the next batch is gathered and natively augmented on a background
/// thread while the caller works on the current one. Batch k's crops and flips come from a
/// generator seeded by (seed, k), so batches are the same with and without prefetch, and
/// whatever else draws random numbers meanwhile (dropout) does not move them.
public final class BatchIterator {
    public let dataset: Dataset
    public let batchSize: Int
    let order: [Int]
    let flatten: Bool
    let seed: UInt64
    let prefetch: Bool
    /// The number of the next batch.
    var index = 0
    /// The batch being assembled in the background, and the signal that it is ready.
    private var pending: (ready: DispatchSemaphore, box: Box)?
    private final class Box { var result: Result<(x: Tensor, y: Tensor), Error>? }
    private static let queue = DispatchQueue(label: "lopper.prefetch")

    public init(_ dataset: Dataset, batchSize: Int, shuffle: Bool, seed: UInt64, flatten: Bool, dropLast: Bool,
                prefetch: Bool = true) throws {
        guard batchSize >= 1 else { throw TensorError("batches: batch size must be at least 1, got \(batchSize)") }
        self.dataset = dataset
        self.batchSize = batchSize
        var order = Array(0..<dataset.count)
        if shuffle { Tensor.shuffle(&order, generator: RandomGenerator(seed: seed)) }
        if dropLast { order.removeLast(order.count % batchSize) }
        self.order = order
        self.flatten = flatten
        self.seed = seed
        self.prefetch = prefetch
    }

    /// Batch `k` of the pass, natively assembled.
    private func assemble(_ k: Int) throws -> (x: Tensor, y: Tensor) {
        let start = k * batchSize, end = min(start + batchSize, order.count)
        let generator = RandomGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(k + 1))
        return try dataset.assembled(order[start..<end], flatten: flatten, generator: generator)
    }

    /// The next batch, or nil at the end of the pass.
    public func next() throws -> (x: Tensor, y: Tensor)? {
        guard index < batchCount else { return nil }
        let batch: (x: Tensor, y: Tensor)
        if let (ready, box) = pending {
            ready.wait()
            pending = nil
            batch = try box.result!.get()
        } else {
            batch = try assemble(index)
        }
        index += 1
        if prefetch && index < batchCount { startAssembling(index) }
        return try dataset.finish(batch, flatten: flatten)
    }

    /// The work holds the iterator until it is done, so an iterator left half-way (a loop
    /// that breaks) goes only once its pending batch is assembled.
    private func startAssembling(_ k: Int) {
        let ready = DispatchSemaphore(value: 0), box = Box()
        pending = (ready, box)
        BatchIterator.queue.async { [self] in
            box.result = Result { try self.assemble(k) }
            ready.signal()
        }
    }

    public var batchCount: Int { (order.count + batchSize - 1) / batchSize }
}

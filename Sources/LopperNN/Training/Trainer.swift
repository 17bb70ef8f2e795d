import Foundation
import LopperCore

/// The native training loop and evaluation. Callbacks run at step and epoch boundaries
/// and may stop training by returning false.
public enum Trainer {
    /// What a step callback sees.
    public struct Step {
        public var iteration: Int       // optimizer steps taken so far, including this one
        public var epoch: Int           // 1-based
        public var batch: Int           // 1-based within the epoch
        public var loss: Float
        public var lr: Float
        public var samples: Int
    }

    /// What an epoch callback sees.
    public struct Epoch {
        public var epoch: Int
        public var iteration: Int
        public var meanLoss: Double
        public var seconds: Double
        public var samples: Int
    }

    public struct Result {
        public var iterations = 0
        public var epochs = 0
        public var samples = 0
        public var seconds: Double = 0
        public var lastLoss: Float = .nan
        public var stoppedEarly = false
    }

    public typealias Loss = (_ output: Tensor, _ target: Tensor) throws -> Tensor

    /// Trains `net` on `data` for `epochs` passes or `iterations` steps (whichever is given;
    /// with both, whichever ends first). Each epoch is shuffled with a seed drawn from the
    /// shared generator, so `lp.manual_seed` fixes the whole run.
    public static func train(_ net: Module, data: Dataset, optimizer: Optimizer, batchSize: Int,
                             epochs: Int?, iterations: Int?, shuffle: Bool = true, dropLast: Bool = false,
                             prefetch: Bool = true, loss: Loss? = nil,
                             onStep: ((Step) throws -> Bool)? = nil,
                             onEpoch: ((Epoch) throws -> Bool)? = nil,
                             beforeStep: (() throws -> Void)? = nil, onStart: (() throws -> Void)? = nil) throws -> Result {
        guard epochs != nil || iterations != nil else { throw TensorError("train: give epochs or iterations") }
        if let e = epochs, e < 0 { throw TensorError("train: epochs must be non-negative, got \(e)") }
        if let i = iterations, i < 0 { throw TensorError("train: iterations must be non-negative, got \(i)") }
        guard batchSize >= 1 else { throw TensorError("train: batch size must be at least 1, got \(batchSize)") }
        // A mask updater starts once the settings are known to be valid, so a bad call changes nothing.
        try onStart?()
        let lossFn = loss ?? { try $0.crossEntropy($1) }
        var result = Result()
        let started = Date()
        let perEpoch = dropLast ? data.count / batchSize : (data.count + batchSize - 1) / batchSize
        let byEpochs = (epochs ?? Int.max / max(perEpoch, 1)) * perEpoch
        let progress = ProgressLine("train", total: min(iterations ?? Int.max, byEpochs), unit: "samples")
        defer { progress.finish() }
        net.train(true)
        var epoch = 0
        training: while epochs.map({ epoch < $0 }) ?? true {
            if let limit = iterations, result.iterations >= limit { break }
            epoch += 1
            let epochStart = Date()
            let batches = try BatchIterator(data, batchSize: batchSize, shuffle: shuffle,
                                            seed: RandomGenerator.shared.next(), flatten: false, dropLast: dropLast, prefetch: prefetch)
            var sum = 0.0, count = 0, seen = 0
            var batch = 0
            while let (x, y) = try batches.next() {
                if let limit = iterations, result.iterations >= limit { break }
                batch += 1
                let out = try net(x)
                let l = try lossFn(out, y)
                guard l.count == 1 else { throw TensorError("train: the loss must be one number, got shape \(describeShape(l.shape))") }
                optimizer.zeroGrad()
                try l.backward()
                // Mask updaters read the dense gradient, which the step masks.
                try beforeStep?()
                try optimizer.step()
                let value = l.data[0]
                result.iterations += 1
                // Ctrl-C and --time-limit stop a long native loop at its next step.
                try StopRequest.check("train", at: "step \(optimizer.iteration)")
                result.samples += x.shape[0]
                result.lastLoss = value
                sum += Double(value); count += 1; seen += x.shape[0]
                progress.update(result.iterations, String(format: "loss %.4f", value), work: result.samples)
                if let onStep, try !onStep(Step(iteration: optimizer.iteration, epoch: epoch, batch: batch, loss: value,
                                                lr: optimizer.lr, samples: result.samples)) {
                    result.stoppedEarly = true
                    break training
                }
            }
            result.epochs = epoch
            if count == 0 { break }
            if let onEpoch, try !onEpoch(Epoch(epoch: epoch, iteration: optimizer.iteration, meanLoss: sum / Double(count),
                                               seconds: Date().timeIntervalSince(epochStart), samples: seen)) {
                result.stoppedEarly = true
                break
            }
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// The outputs of `net` for the rows of x, `batchSize` at a time, in evaluation mode and
    /// without recording; the module's training flags are restored afterwards.
    public static func predict(_ net: Module, _ x: Tensor, batchSize: Int = 1000) throws -> Tensor {
        guard batchSize >= 1 else { throw TensorError("predict: batch size must be at least 1, got \(batchSize)") }
        guard x.rank >= 1, x.shape[0] >= 1 else { throw TensorError("predict: expected inputs [N, …] with N ≥ 1, got \(describeShape(x.shape))") }
        return try net.evaluating { try Autograd.noGrad {
            var parts: [Tensor] = []
            var start = 0
            while start < x.shape[0] {
                let n = min(batchSize, x.shape[0] - start)
                parts.append(try net(try x.narrow(0, start, n)))
                start += n
            }
            return parts.count == 1 ? parts[0] : try Tensor.cat(parts, dim: 0)
        } }
    }

    /// The mean loss, the accuracy and the accuracy of each class (nan where a class has no
    /// sample; accuracies are nan for value targets).
    public struct Evaluation {
        public var loss: Double, accuracy: Double, count: Int
        public var perClass: [Double]
    }

    /// `net` over `data` in evaluation mode, without recording, each batch through
    /// `transform` first (input corruptions); the module's training flag is restored afterwards.
    public static func evaluate(_ net: Module, data: Dataset, batchSize: Int = 1000, loss: Loss? = nil,
                                transform: ((Tensor, Tensor) throws -> (Tensor, Tensor))? = nil) throws -> Evaluation {
        guard batchSize >= 1 else { throw TensorError("evaluate: batch size must be at least 1, got \(batchSize)") }
        let lossFn = loss ?? { try $0.crossEntropy($1) }
        return try net.evaluating { try Autograd.noGrad {
            let batches = try BatchIterator(data, batchSize: batchSize, shuffle: false, seed: 0, flatten: false, dropLast: false)
            var total = 0.0, n = 0
            var hits = [Int](repeating: 0, count: data.classes), seen = [Int](repeating: 0, count: data.classes)
            while var (x, y) = try batches.next() {
                if let transform { (x, y) = try transform(x, y) }
                let out = try net(x)
                let b = x.shape[0]
                total += Double(try lossFn(out, y).item()) * Double(b)
                n += b
                // Value targets (regression) have no accuracy.
                guard data.classes > 0 else { continue }
                let logits = try out.contiguous()
                guard logits.rank == 2, logits.shape[0] == b, y.count == b else {
                    throw TensorError("evaluate: the output of shape \(describeShape(out.shape)) is not [\(b), classes] for \(b) targets")
                }
                let width = logits.shape[1]
                for r in 0..<b {
                    let row = logits.data + r * width
                    var best = 0
                    for k in 1..<max(1, width) where row[k] > row[best] { best = k }
                    let target = Int(y.data[r]) - 1
                    guard target >= 0, target < data.classes else { continue }
                    seen[target] += 1
                    if best == target { hits[target] += 1 }
                }
            }
            let accuracy = data.classes > 0 && n > 0 ? Double(hits.reduce(0, +)) / Double(n) : .nan
            let perClass = zip(hits, seen).map { $1 > 0 ? Double($0) / Double($1) : .nan }
            return Evaluation(loss: n == 0 ? .nan : total / Double(n), accuracy: accuracy, count: n, perClass: perClass)
        } }
    }
}

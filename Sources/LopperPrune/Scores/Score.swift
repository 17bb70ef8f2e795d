import LopperCore
import LopperNN

/// The built-in scores. Higher means more important: pruning removes the lowest.
public enum ScoreKind: String, CaseIterable {
    case magnitude, random, snip, grasp, synflow, taylor, gradient, l1, l2
    case bnScale = "bn_scale"
    case fisher, apoz
    case activationNorm = "activation_norm"
    case coreset

    /// Whether the score reads a data set.
    public var needsData: Bool { [.snip, .grasp, .taylor, .gradient, .fisher, .apoz, .activationNorm].contains(self) }
    /// Whether the score gives one value a channel (from the layer's outputs).
    public var ranksChannels: Bool { [.fisher, .apoz, .activationNorm, .coreset].contains(self) }
}

/// What data-driven scores read, with the papers' defaults.
public struct ScoreData {
    public var dataset: Dataset
    /// Batch size for SNIP, Taylor and gradient magnitude (SNIP: one batch).
    public var batchSize = 100
    /// Batches accumulated by Taylor and gradient magnitude.
    public var batches = 1
    /// GraSP: samples drawn per class (Wang et al.: 10) and the logit temperature (200).
    public var samplesPerClass = 10
    public var temperature: Float = 200
    /// Fisher pruning's cost penalty (Theis et al.): the score is Δ − beta · (MACs a sample
    /// that removing the channel saves).
    public var beta: Double = 0

    public init(dataset: Dataset) { self.dataset = dataset }
}

/// Score tensors, one per prunable tensor, of the same shapes.
public enum Scores {
    public static func compute(_ kind: ScoreKind, net: Module, targets: [PrunableTensor], data: ScoreData? = nil,
                               rng: RandomGenerator = .shared) throws -> [Tensor] {
        if kind.needsData && data == nil {
            throw TensorError("score \(kind.rawValue): needs data (a data set to draw batches from)")
        }
        switch kind {
        case .magnitude, .l1: return try targets.map { try $0.tensor.detach().map { Swift.abs($0) } }
        case .l2: return try targets.map { try $0.tensor.detach().map { $0 * $0 } }
        case .random:
            return try targets.map { t in
                let s = try Tensor(filled: 0, shape: t.tensor.shape)
                for i in 0..<s.count { s.data[i] = rng.uniformFloat() }
                return s
            }
        case .snip: return try gradientTimesWeight(net, targets, data!, batches: 1, rng: rng)
        case .taylor: return try gradientTimesWeight(net, targets, data!, batches: data!.batches, rng: rng)
        case .gradient: return try gradientMagnitude(net, targets, data!, rng: rng)
        case .grasp: return try grasp(net, targets, data!, rng: rng)
        case .synflow: return try synflow(net, targets)
        case .bnScale: return try batchNormScale(net, targets)
        case .fisher, .apoz, .activationNorm: return try activationScores(kind, net: net, targets: targets, data: data!, rng: rng)
        case .coreset:
            // Each neuron's leverage in the ellipsoid of its outgoing weights, given to its row.
            return try targets.map { t in
                let s = try NeuronCoreset.sensitivities(net, weight: t.tensor, name: t.name)
                let out = try Tensor(filled: 0, shape: t.tensor.shape)
                let per = out.count / max(out.shape[0], 1)
                for (j, v) in s.values.enumerated() where j < out.shape[0] { for k in 0..<per { out.data[j * per + k] = Float(v) } }
                return out
            }
        }
    }

    /// Checks that scores fit the targets and are finite numbers.
    public static func validate(_ scores: [Tensor], _ targets: [PrunableTensor], source: String) throws {
        guard scores.count == targets.count else {
            throw TensorError("\(source): gave \(scores.count) score tensors for \(targets.count) prunable tensors")
        }
        for (s, t) in zip(scores, targets) {
            guard s.shape == t.tensor.shape else {
                throw TensorError("\(source): the score of \(t.name) has shape \(describeShape(s.shape)), the tensor \(describeShape(t.tensor.shape))")
            }
            let c = try s.contiguous()
            // Inf ranks above every finite score, so one would keep (or drop) whole layers
            // silently: an error, like NaN.
            for i in 0..<c.count where !c.data[i].isFinite {
                let what = c.data[i].isNaN ? "NaN" : (c.data[i] > 0 ? "Inf" : "-Inf")
                throw TensorError("\(source): the score of \(t.name) holds \(what) at element \(i + 1) (scores must be finite numbers; a product of many weights overflows Float32: rescale it, or score in logarithms)")
            }
        }
    }

    /// Batches of a data set, shuffled with a seed from `rng`.
    static func batches(_ data: ScoreData, _ count: Int, _ rng: RandomGenerator) throws -> [(Tensor, Tensor)] {
        let it = try BatchIterator(data.dataset, batchSize: data.batchSize, shuffle: true, seed: rng.next(), flatten: false, dropLast: false)
        var out: [(Tensor, Tensor)] = []
        while out.count < count, let b = try it.next() { out.append(b) }
        return out
    }

    /// Gradients of the mean cross-entropy on (x, y) with respect to the targets.
    static func lossGradients(_ net: Module, _ targets: [PrunableTensor], _ x: Tensor, _ y: Tensor,
                              temperature: Float = 1, createGraph: Bool = false) throws -> [Tensor] {
        var out = try net(x)
        if temperature != 1 { out = try out.div(temperature) }
        return try out.crossEntropy(y).gradients(wrt: targets.map { $0.tensor }, createGraph: createGraph)
    }
}

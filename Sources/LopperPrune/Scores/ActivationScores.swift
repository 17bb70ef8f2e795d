import LopperCore
import LopperNN

/// Scores from what a layer's channels output on data, through `Capture`: Fisher (Theis
/// et al. 2018), APoZ (Hu et al. 2016) and the activation norm. A layer's channels are read
/// where its output has passed the batch norms and activations that follow it in its
/// container (for a ReLU, a·∂L/∂a is the same before and after it, and values ≤ 0 before
/// are the zeros after), else at the layer itself. One value per output channel, the same
/// for every weight of the channel: they rank channels (`structure = "channel"`).
extension Scores {
    /// The module whose output stands for `target`'s channels.
    static func activationPoint(_ net: Module, _ target: PrunableTensor) throws -> (path: String, module: Module) {
        let parts = target.layerPath.split(separator: ".").map(String.init)
        guard let name = parts.last else { return (target.layerPath, target.layer) }
        let parentPath = parts.dropLast().joined(separator: ".")
        let parent = try net.module(at: parentPath)
        let kids = parent.children
        guard var i = kids.firstIndex(where: { $0.0 == name }) else { return (target.layerPath, target.layer) }
        var point = (target.layerPath, target.layer)
        while i + 1 < kids.count, isPassThrough(kids[i + 1].1) {
            i += 1
            point = (parentPath.isEmpty ? kids[i].0 : parentPath + "." + kids[i].0, kids[i].1)
        }
        return point
    }

    /// Batch norms and activations: they keep a layer's channels as they are.
    static func isPassThrough(_ m: Module) -> Bool {
        m is BatchNorm || (m is Elementwise && !["Flatten", "Identity"].contains(m.kind))
    }

    /// MACs per sample that removing one output channel of `target` saves: its own share,
    /// and the share of the next weighted layer in the same container that reads it.
    static func channelCost(_ net: Module, _ target: PrunableTensor) throws -> Double {
        let w = target.tensor
        let channels = w.shape[0]
        var own = Double(w.count / channels)
        if let conv = target.layer as? Conv2d, let (h, wd) = conv.lastOutputSize { own *= Double(h * wd) }
        let parts = target.layerPath.split(separator: ".").map(String.init)
        guard let name = parts.last else { return own }
        let kids = try net.module(at: parts.dropLast().joined(separator: ".")).children
        guard let i = kids.firstIndex(where: { $0.0 == name }) else { return own }
        for (_, m) in kids[(i + 1)...] {
            if let conv = m as? Conv2d {
                guard conv.inChannels == channels, let (h, wd) = conv.lastOutputSize else { break }
                return own + Double(conv.weight.count / channels * h * wd)
            }
            if let fc = m as? Linear {
                guard fc.inFeatures % channels == 0 else { break }
                return own + Double(fc.weight.count / channels)
            }
        }
        return own
    }

    static func activationScores(_ kind: ScoreKind, net: Module, targets: [PrunableTensor], data: ScoreData,
                                 rng: RandomGenerator) throws -> [Tensor] {
        let points = try targets.map { try activationPoint(net, $0) }
        // One capture per distinct point (two targets may share one).
        var unique: [(String, Module)] = []
        for p in points where !unique.contains(where: { $0.1 === p.module }) { unique.append((p.path, p.module)) }
        let needsGradient = kind == .fisher
        let stats = try Capture.run(unique, gradients: needsGradient) {
            for (x, y) in try batches(data, data.batches, rng) {
                if needsGradient {
                    _ = try net(x).crossEntropy(y).gradients(wrt: targets.map { $0.tensor })
                } else {
                    _ = try Autograd.noGrad { try net(x) }
                }
            }
        }
        return try zip(targets, points).map { t, p in
            let s = stats[unique.firstIndex { $0.1 === p.module }!]
            let channels = t.tensor.shape[0]
            guard s.channels == channels else {
                throw TensorError("score \(kind.rawValue): \(p.path) gives \(s.channels) channels for \(t.name), which has \(channels)")
            }
            var values: [Double]
            switch kind {
            case .fisher:
                values = s.fisher
                if data.beta != 0 {
                    let cost = try channelCost(net, t)
                    values = values.map { $0 - data.beta * cost }
                }
            case .apoz: values = s.nonPositiveFraction.map { 1 - $0 }
            default: values = s.meanOfSquares.map { $0.squareRoot() }
            }
            let out = try Tensor(filled: 0, shape: t.tensor.shape)
            let per = t.tensor.count / channels
            for c in 0..<channels {
                let v = Float(values[c])
                for k in 0..<per { out.data[c * per + k] = v }
            }
            return out
        }
    }
}

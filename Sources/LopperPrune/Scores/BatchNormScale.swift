import LopperCore
import LopperNN

extension Scores {
    /// Network slimming (Liu et al. 2017): a channel's importance is |γ| of the BatchNorm
    /// that follows its layer, spread over the channel's weights so channel pruning sums
    /// it back per channel (divided by the channel size, so sums equal |γ|).
    static func batchNormScale(_ net: Module, _ targets: [PrunableTensor]) throws -> [Tensor] {
        try targets.map { t in
            guard let bn = Layers.followingNorm(net, t.layer) else {
                throw TensorError("score bn_scale: \(t.name) is not followed by a BatchNorm layer")
            }
            let rows = t.tensor.shape[0], per = t.tensor.count / rows
            let s = try Tensor(filled: 0, shape: t.tensor.shape)
            let gamma = try bn.weight.contiguous()
            for r in 0..<rows {
                let v = Swift.abs(gamma.data[r]) / Float(per)
                for k in 0..<per { s.data[r * per + k] = v }
            }
            return s
        }
    }
}

/// How layers sit in a network.
enum Layers {
    /// The BatchNorm applied right after `layer` (the next module that is not a container),
    /// when its channel count matches the layer's outputs.
    static func followingNorm(_ net: Module, _ layer: Module) -> BatchNorm? {
        let leaves = net.namedModules().map { $0.1 }.filter { $0.children.isEmpty }
        guard let i = leaves.firstIndex(where: { $0 === layer }), i + 1 < leaves.count,
              let bn = leaves[i + 1] as? BatchNorm else { return nil }
        let outputs = (layer as? Conv2d)?.outChannels ?? (layer as? Linear)?.outFeatures
        return bn.channels == outputs ? bn : nil
    }
}

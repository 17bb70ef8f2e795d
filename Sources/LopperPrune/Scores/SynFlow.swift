import Foundation
import LopperCore
import LopperNN

extension Scores {
    /// SynFlow (Tanaka et al. 2020), data-free: every parameter and buffer replaced by its
    /// absolute value, the network in eval mode, an all-ones input, R = Σ output, and
    /// score = |∂R/∂θ ⊙ θ|. Values are restored afterwards.
    ///
    /// R grows like the product of the layers' gains and overflows float32 on deep nets.
    /// Each Linear/Conv2d weight is therefore scaled by a power of two that brings its gain
    /// near 1, and every bias and BatchNorm shift by the product of the scales before it
    /// (residual branches are balanced so both sides carry the same product). The scaled
    /// network computes R times one constant, so every score is multiplied by that same
    /// constant and the ranking is unchanged; powers of two add no rounding.
    static func synflow(_ net: Module, _ targets: [PrunableTensor]) throws -> [Tensor] {
        guard let inputShape = net.inputShape else {
            throw TensorError("score synflow: the network's input shape is unknown; set input_shape (e.g. {1, 28, 28})")
        }
        return try Scratch.evaluate(net) {
            Autograd.noGrad {
                for (_, t) in net.stateDict() { t.apply_ { Swift.abs($0) } }
            }
            let scaled = try Autograd.noGrad { try SynFlowScaling.rescale(net, 1) } != nil
            let x = try Tensor(filled: 1, shape: [1] + inputShape)
            let r = try net(x).sum()
            let value = try r.item()
            guard value.isFinite else {
                throw TensorError("score synflow: R = 1ᵀ(∏|W|)1 overflowed float32 (\(value))" +
                                  (scaled ? "" : "; the network has layers SynFlow cannot rescale (modules written in Lua)"))
            }
            let grads = try r.gradients(wrt: targets.map { $0.tensor })
            return try Autograd.noGrad { try zip(grads, targets).map { try $0.mul($1.tensor.detach()).abs() } }
        }
    }
}

/// The power-of-two rescaling that keeps SynFlow's R inside float32.
enum SynFlowScaling {
    /// Scales `m` (all values already non-negative) for an input carrying scale `cin`;
    /// returns the scale of its output, or nil when a layer is not understood (then
    /// nothing further is scaled consistently and the caller checks for overflow).
    static func rescale(_ m: Module, _ cin: Float) throws -> Float? {
        switch m {
        case let l as Linear: return try scaleLayer(l.weight, l.bias, rows: l.outFeatures, cin)
        case let c as Conv2d: return try scaleLayer(c.weight, c.bias, rows: c.outChannels, cin)
        case let b as BatchNorm:
            // (x − μ)/σ·γ + β: with x carrying cin, μ and β must carry it too.
            b.localBuffers.first { $0.0 == "running_mean" }?.1.mul_(cin)
            b.localParameters.first { $0.0 == "bias" }?.1.mul_(cin)
            return cin
        case let r as Residual:
            let kids = r.children
            guard let body = try rescale(kids[0].1, cin) else { return nil }
            let skip = kids.count > 1 ? try rescale(kids[1].1, cin) : cin
            guard let skip else { return nil }
            if body != skip { guard try scaleOutput(kids[0].1, skip / body) else { return nil } }
            return skip
        case let b as BasicBlock:
            let kids = b.children
            var c: Float? = cin
            for k in kids.prefix(4) { if let v = c { c = try rescale(k.1, v) } }
            guard let body = c else { return nil }
            let skip = kids.count > 4 ? try rescale(kids[4].1, cin) : cin
            guard let skip else { return nil }
            if body != skip { guard try scaleOutput(kids[3].1, skip / body) else { return nil } }
            return skip
        default:
            if !m.localParameters.isEmpty { return nil }
            // Parameter-free layers (ReLU, pooling, flatten, dropout) are positively
            // homogeneous; containers without their own forward logic are chains.
            guard m.children.isEmpty || m is Sequential else { return nil }
            var c: Float? = cin
            for (_, k) in m.children { if let v = c { c = try rescale(k, v) } }
            return c
        }
    }

    /// Scales a weight by 2^−round(log2 gain), gain = Σ|W| / rows (what an all-ones input
    /// gains per output); the bias carries the output's scale.
    static func scaleLayer(_ w: Tensor, _ b: Tensor?, rows: Int, _ cin: Float) throws -> Float {
        var sum = 0.0
        let p = try w.contiguous().data
        for i in 0..<w.count { sum += Double(p[i]) }
        let gain = sum / Double(rows)
        let c: Float = gain > 0 && gain.isFinite ? Float(exp2(-(log2(gain)).rounded())) : 1
        w.mul_(c)
        let cout = cin * c
        b?.mul_(cout)
        return cout
    }

    /// Multiplies the output of `m` by f, through its last layer with parameters.
    static func scaleOutput(_ m: Module, _ f: Float) throws -> Bool {
        guard let last = m.namedModules().last(where: { !$0.1.localParameters.isEmpty })?.1 else { return false }
        switch last {
        case is Linear, is Conv2d, is BatchNorm:
            for (_, p) in last.localParameters { p.mul_(f) }
            return true
        default: return false
        }
    }
}

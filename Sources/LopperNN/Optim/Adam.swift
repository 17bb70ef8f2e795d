import Foundation
import LopperCore
import LopperKernels

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as PyTorch computes
/// them: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε).
/// Adam adds λw to g; AdamW instead shrinks w by lr·λ before the update. The step count
/// t is kept per parameter (state "step"), so resetting a parameter restarts its bias
/// correction.
public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool

    public init(_ named: [(String, Tensor)], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                eps: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) throws {
        let name = decoupled ? "AdamW" : "Adam"
        guard (0..<1).contains(betas.0), (0..<1).contains(betas.1) else {
            throw TensorError("\(name): betas must lie in [0, 1), got (\(betas.0), \(betas.1))")
        }
        guard eps >= 0, weightDecay >= 0 else {
            throw TensorError("\(name): eps and weight_decay must be non-negative, got \(eps), \(weightDecay)")
        }
        beta1 = betas.0
        beta2 = betas.1
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        try super.init(kind: name, named: named, lr: lr)
    }

    public override func makeEmpty(_ named: [(String, Tensor)]) throws -> Optimizer {
        try Adam(named, lr: baseLR, betas: (beta1, beta2), eps: eps, weightDecay: weightDecay, decoupled: decoupled)
    }

    public override func update(_ i: Int, _ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) throws {
        let stepTensor = try state[i]["step"] ?? { let t = try Tensor(shape: []); state[i]["step"] = t; return t }()
        stepTensor.data[0] += 1
        let t = stepTensor.data[0]
        let m = try buffer(i, "exp_avg").data, v = try buffer(i, "exp_avg_sq").data
        let bc1 = 1 - Foundation.powf(beta1, t), bc2 = 1 - Foundation.powf(beta2, t)
        lk_adam_update(w, g, m, v, n, beta1, beta2, lr / bc1, bc2.squareRoot(), eps,
                       decoupled ? 0 : weightDecay, decoupled ? 1 - lr * weightDecay : 1)
    }

    public override var settings: [String: Double] {
        ["lr": Double(baseLR), "beta1": Double(beta1), "beta2": Double(beta2), "eps": Double(eps),
         "weight_decay": Double(weightDecay)]
    }
}

import LopperCore
import LopperKernels

/// Stochastic gradient descent as PyTorch defines it: g ← ∇ + λw; with momentum μ,
/// b ← g on the first step, then b ← μb + (1−dampening)g; Nesterov uses g + μb;
/// w ← w − lr·(b or g).
public final class SGD: Optimizer {
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool

    public init(_ named: [(String, Tensor)], lr: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) throws {
        guard momentum >= 0, dampening >= 0, weightDecay >= 0 else {
            throw TensorError("SGD: momentum, dampening and weight_decay must be non-negative, got \(momentum), \(dampening), \(weightDecay)")
        }
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw TensorError("SGD: nesterov needs momentum > 0 and dampening 0")
        }
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        try super.init(kind: "SGD", named: named, lr: lr)
    }

    public override func makeEmpty(_ named: [(String, Tensor)]) throws -> Optimizer {
        try SGD(named, lr: baseLR, momentum: momentum, dampening: dampening, weightDecay: weightDecay, nesterov: nesterov)
    }

    public override func update(_ i: Int, _ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) throws {
        if momentum == 0 {
            lk_sgd_update(w, g, nil, n, lr, 0, 0, weightDecay, 0, 0)
            return
        }
        let fresh = state[i]["momentum_buffer"] == nil
        lk_sgd_update(w, g, try buffer(i, "momentum_buffer").data, n, lr, momentum, dampening, weightDecay,
                      nesterov ? 1 : 0, fresh ? 1 : 0)
    }

    public override var settings: [String: Double] {
        ["lr": Double(baseLR), "momentum": Double(momentum), "dampening": Double(dampening),
         "weight_decay": Double(weightDecay), "nesterov": nesterov ? 1 : 0]
    }
}

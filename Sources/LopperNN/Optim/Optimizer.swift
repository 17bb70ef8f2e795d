import LopperCore

/// Updates parameters from their gradients. Per-parameter state (momentum buffers, Adam
/// moments) is held by name and can be read, zeroed or zeroed under a mask — pruning zeroes
/// the momentum of removed weights so that it cannot revive them.
open class Optimizer {
    public let kind: String
    /// The parameters, with the names the model gave them.
    public let names: [String]
    public let params: [Tensor]
    /// The learning rate set at construction; a schedule scales from it.
    public var baseLR: Float
    /// The learning rate used by the last (or next) step.
    public private(set) var lr: Float
    /// Optional learning-rate schedule, a function of `iteration`.
    public var schedule: Schedule?
    /// Steps taken (the schedule's clock). Setting it rewinds or advances the schedule.
    public var iteration = 0
    /// Per-parameter state tensors by name ("momentum_buffer", "exp_avg", …).
    public var state: [[String: Tensor]]
    /// The mask each parameter had at its last step: a new mask zeroes the state it removes.
    var masksSeen: [Tensor?]

    public init(kind: String, named: [(String, Tensor)], lr: Float) throws {
        guard !named.isEmpty else { throw TensorError("\(kind): no parameters to optimise") }
        guard lr >= 0, lr.isFinite else { throw TensorError("\(kind): learning rate must be a non-negative number, got \(lr)") }
        self.kind = kind
        names = named.map { $0.0 }
        params = named.map { $0.1 }
        baseLR = lr
        self.lr = lr
        state = Array(repeating: [:], count: named.count)
        masksSeen = Array(repeating: nil, count: named.count)
    }

    /// The learning rate at the current iteration.
    public func currentLR() throws -> Float {
        guard let schedule else { return baseLR }
        let v = try schedule.factor(at: iteration) * baseLR
        guard v.isFinite, v >= 0 else { throw TensorError("\(kind): the schedule gave learning rate \(v) at step \(iteration)") }
        return v
    }

    /// One update of every parameter that has a gradient. A masked parameter's gradient
    /// is masked first and its weights re-masked after, so removed weights stay exactly
    /// zero; when its mask changes, the state (momentum, moments) of removed weights is
    /// zeroed, so it cannot revive them.
    public func step() throws {
        lr = try currentLR()
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            guard g.shape == p.shape else {
                throw TensorError("\(kind): gradient of \(names[i]) has shape \(describeShape(g.shape)), parameter \(describeShape(p.shape))")
            }
            let grad = try g.contiguous()
            guard p.isContiguous else { throw TensorError("\(kind): parameter \(names[i]) is not contiguous") }
            if let mask = p.mask {
                if masksSeen[i] !== mask {
                    try resetState(i, keep: mask)
                    masksSeen[i] = mask
                }
                try grad.mul_(mask)
            } else {
                masksSeen[i] = nil
            }
            try update(i, p.data, grad.data, p.count)
            if let mask = p.mask { try p.mul_(mask) }
        }
        iteration += 1
    }

    /// Updates parameter `i` (n floats at `w`) from its gradient at `g`.
    open func update(_ i: Int, _ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) throws {}

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in params { p.grad = nil } }

    /// The state tensor `key` of parameter `i`, created zeroed on first use.
    public func buffer(_ i: Int, _ key: String) throws -> Tensor {
        if let t = state[i][key] { return t }
        let t = try Tensor(shape: params[i].shape)
        state[i][key] = t
        return t
    }

    public func index(of p: Tensor) -> Int? { params.firstIndex { $0 === p } }

    /// Zeroes the state of parameter `i` where `mask` is 0 (everywhere without a mask);
    /// counters (Adam's step) are kept.
    public func resetState(_ i: Int, keep mask: Tensor? = nil) throws {
        for (_, t) in state[i] where t.shape == params[i].shape {
            if let mask { try t.mul_(mask) } else { t.zero_() }
        }
    }

    /// An optimizer of this kind and these hyper-parameters over other parameters, empty.
    open func makeEmpty(_ named: [(String, Tensor)]) throws -> Optimizer {
        throw TensorError("\(kind): this optimizer cannot be carried over to another network")
    }

    /// This optimizer carried over to `named` (a compacted network): the same settings,
    /// schedule and clock, and each parameter's state taken from the one of the same name,
    /// `map(name, tensor)` thinning the state tensors shaped like the old parameter.
    public func carried(over named: [(String, Tensor)], map: (String, Tensor) throws -> Tensor) throws -> Optimizer {
        let o = try makeEmpty(named)
        o.baseLR = baseLR
        o.lr = lr
        o.schedule = schedule
        o.iteration = iteration
        for (j, (name, p)) in named.enumerated() {
            guard let i = names.firstIndex(of: name) else { continue }
            for (key, t) in state[i] {
                let moved = t.shape == params[i].shape ? try map(name, t) : try t.clone()
                guard moved.shape == p.shape || t.shape != params[i].shape else {
                    throw TensorError("\(kind): the state \(key) of \(name) maps to \(describeShape(moved.shape)), the parameter is \(describeShape(p.shape))")
                }
                o.state[j][key] = moved
            }
            o.masksSeen[j] = p.mask
        }
        return o
    }

    /// Hyper-parameters for display and checkpoints.
    open var settings: [String: Double] { ["lr": Double(baseLR)] }
}

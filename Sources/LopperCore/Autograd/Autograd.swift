/// Reverse-mode automatic differentiation: the recording switch and the backward pass.
public enum Autograd {
    /// Whether ops record their graph (off inside `noGrad`).
    nonisolated(unsafe) public static var isEnabled = true

    /// Runs `body` without recording (optimizer steps, evaluation).
    public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        let saved = isEnabled
        isEnabled = false
        defer { isEnabled = saved }
        return try body()
    }

    /// Runs `body` with recording on or off.
    static func with<T>(recording: Bool, _ body: () throws -> T) rethrows -> T {
        let saved = isEnabled
        isEnabled = recording
        defer { isEnabled = saved }
        return try body()
    }

    /// Gradients of `output` (seeded with `seed`, or 1 for a one-element output) with
    /// respect to every tensor in its graph. With `createGraph`, the backward ops are
    /// recorded, so the gradients can be differentiated again. Without `retainGraph`,
    /// each node is freed once used (its saved tensors go at once, not when the output is
    /// collected), and a second pass through it is an error, as in PyTorch.
    static func propagate(_ output: Tensor, seed: Tensor?, createGraph: Bool, retainGraph: Bool = true,
                          visit: (Tensor, Tensor) throws -> Void) throws {
        guard output.requiresGrad else {
            throw TensorError("backward: the tensor does not require grad (no input had requires_grad, or it was computed under no_grad)")
        }
        let start: Tensor
        if let seed {
            guard seed.shape == output.shape else {
                throw TensorError("backward: gradient of shape \(describeShape(seed.shape)) does not match output \(describeShape(output.shape))")
            }
            start = seed
        } else {
            guard output.count == 1 else {
                throw TensorError("backward: output of shape \(describeShape(output.shape)) is not a scalar; pass a gradient of its shape")
            }
            start = try Tensor.ones(output.shape)
        }
        // Topological order (depth-first, iterative so deep graphs do not overflow the stack).
        var order: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(output, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            if !seen.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            for i in t.gradFn?.inputs ?? [] where i.requiresGrad && !seen.contains(ObjectIdentifier(i)) {
                stack.append((i, false))
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(output): start]
        try with(recording: createGraph) {
            for t in order.reversed() {
                guard var g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                if let hooks = t.gradHooks { g = try runHooks(hooks, g) }
                try visit(t, g)
                guard let node = t.gradFn else { continue }
                guard !node.released else {
                    throw TensorError("backward: the graph through '\(node.name)' was freed by an earlier backward; pass retain_graph = true to that backward to go through the graph twice")
                }
                let inputGrads = try node.backward(g)
                for (input, ig) in zip(node.inputs, inputGrads) where input.requiresGrad {
                    guard let ig else { continue }
                    let key = ObjectIdentifier(input)
                    grads[key] = try grads[key].map { try $0.add(ig) } ?? ig
                }
                if !retainGraph { node.release() }
            }
        }
    }

    /// Hands `g` to each hook in turn; a returned tensor (of g's shape) replaces it.
    private static func runHooks(_ hooks: [(Tensor) throws -> Tensor?], _ g: Tensor) throws -> Tensor {
        var g = g
        for hook in hooks {
            guard let replaced = try hook(g) else { continue }
            guard replaced.shape == g.shape else {
                throw TensorError("backward: a gradient hook returned shape \(describeShape(replaced.shape)) for a gradient of shape \(describeShape(g.shape))")
            }
            g = replaced
        }
        return g
    }
}

extension Tensor {
    /// Accumulates d(self)/d(leaf) into `leaf.grad` for every leaf that requires grad (and
    /// every non-leaf that `retainsGrad`).
    /// The graph is freed as it is used unless `retainGraph` (default: `createGraph`).
    public func backward(_ seed: Tensor? = nil, createGraph: Bool = false, retainGraph: Bool? = nil) throws {
        // One backward gradient often feeds several inputs (both sides of `a + b`), and the
        // seed is the caller's: a leaf keeps a storage of its own, so changing one .grad in
        // place (zeroing, clipping) never changes another.
        var handedOut = Set<ObjectIdentifier>()
        if let seed { handedOut.insert(ObjectIdentifier(seed.storage)) }
        try Autograd.propagate(self, seed: seed, createGraph: createGraph, retainGraph: retainGraph ?? createGraph) { t, g in
            guard t.gradFn == nil || t.retainsGrad else { return }
            if let old = t.grad {
                t.grad = createGraph ? try old.add(g) : try Autograd.noGrad { try old.add(g) }
            } else if createGraph {
                t.grad = g
            } else {
                let fresh = g.isContiguous && handedOut.insert(ObjectIdentifier(g.storage)).inserted
                t.grad = fresh ? g.detach() : try g.unrecordedClone()
            }
        }
    }

    /// d(self)/d(inputs) without touching `.grad` (torch.autograd.grad). Inputs the output
    /// does not depend on get zeros.
    public func gradients(wrt inputs: [Tensor], seed: Tensor? = nil, createGraph: Bool = false) throws -> [Tensor] {
        let wanted = Dictionary(inputs.enumerated().map { (ObjectIdentifier($0.element), $0.offset) }, uniquingKeysWith: { a, _ in a })
        var found = [Tensor?](repeating: nil, count: inputs.count)
        try Autograd.propagate(self, seed: seed, createGraph: createGraph) { t, g in
            if let i = wanted[ObjectIdentifier(t)] { found[i] = g }
        }
        return try Swift.zip(inputs, found).map { input, g in try g ?? Tensor(shape: input.shape) }
    }

    /// The same values as a new graph node that hands its gradient straight through: a
    /// point where a hook sees the gradient of exactly one use of this tensor.
    public func passThrough(_ name: String) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset).recorded(name, [self]) { g in [g] }
    }

    /// The same values, cut from the graph.
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }

    /// Records `node` as the producer of this (fresh) result when any input needs grad.
    @inline(__always)
    func recorded(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        guard Autograd.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        gradFn = GradNode(name, inputs, backward)
        return self
    }

    /// Sums a broadcast gradient back to `shape` (the reverse of broadcasting).
    func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        var g = self
        while g.rank > target.count { g = try g.sum(dim: 0) }
        for d in 0..<target.count where target[d] == 1 && g.shape[d] != 1 {
            g = try g.sum(dim: d, keepdim: true)
        }
        return g
    }
}

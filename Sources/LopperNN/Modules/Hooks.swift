import LopperCore

/// Functions a module runs around its forward, and on the gradients flowing back through it
/// (PyTorch's forward hooks and full backward hooks). A module without hooks pays one nil
/// test a call.
public final class ModuleHooks {
    /// fn(module, input, output) → a replacement output, or nil.
    public typealias Forward = (Module, Tensor, Tensor) throws -> Tensor?
    /// fn(module, gradient of the output, gradient of the input (nil when the input needs
    /// none)) → a replacement for the input's gradient, or nil.
    public typealias Backward = (Module, Tensor, Tensor?) throws -> Tensor?

    private(set) var forward: [(id: Int, fn: Forward)] = []
    private(set) var backward: [(id: Int, fn: Backward)] = []
    private var nextID = 0

    public init() {}

    public var isEmpty: Bool { forward.isEmpty && backward.isEmpty }

    /// Adds a forward hook; the number given back removes it.
    public func onForward(_ fn: @escaping Forward) -> Int { nextID += 1; forward.append((nextID, fn)); return nextID }
    /// Adds a backward hook; the number given back removes it.
    public func onBackward(_ fn: @escaping Backward) -> Int { nextID += 1; backward.append((nextID, fn)); return nextID }

    /// Removes the hook with this number; false if it was already gone.
    @discardableResult
    public func remove(_ id: Int) -> Bool {
        let before = forward.count + backward.count
        forward.removeAll { $0.id == id }
        backward.removeAll { $0.id == id }
        return forward.count + backward.count < before
    }

    /// Hooked calls running inside one another: a hook that calls its own module would
    /// otherwise recurse until the stack runs out.
    nonisolated(unsafe) static var depth = 0
    static let maxDepth = 40

    /// `module.forward(x)` with the hooks around it.
    func run(_ module: Module, _ x: Tensor) throws -> Tensor {
        guard ModuleHooks.depth < ModuleHooks.maxDepth else {
            throw TensorError("\(module.kind): hooked calls nest more than \(ModuleHooks.maxDepth) deep (does a hook call its own module?)")
        }
        ModuleHooks.depth += 1
        defer { ModuleHooks.depth -= 1 }
        let backwardHooks = Autograd.isEnabled ? backward.map { $0.fn } : []
        // The input gets a node of its own, so its hook sees the gradient of this module's
        // use of it alone (a residual's shortcut reads the same tensor).
        let input = !backwardHooks.isEmpty && x.requiresGrad ? x.passThrough("hook_input") : x
        var y = try module.forward(input)
        for (_, fn) in forward {
            guard let replaced = try fn(module, x, y) else { continue }
            y = replaced
        }
        guard !backwardHooks.isEmpty, y.requiresGrad else { return y }
        let output = y.passThrough("hook_output")
        let run: (Tensor, Tensor?) throws -> Tensor? = { gradOutput, gradInput in
            var replaced: Tensor?
            for fn in backwardHooks {
                guard let r = try fn(module, gradOutput, replaced ?? gradInput) else { continue }
                guard let gi = gradInput else {
                    throw TensorError("\(module.kind): a backward hook returned a gradient for an input that needs none")
                }
                guard r.shape == gi.shape else {
                    throw TensorError("\(module.kind): a backward hook returned shape \(describeShape(r.shape)) for an input gradient of shape \(describeShape(gi.shape))")
                }
                replaced = r
            }
            return replaced
        }
        if input === x {
            output.gradHooks = [{ g in _ = try run(g, nil); return nil }]
        } else {
            var gradOutput: Tensor?
            output.gradHooks = [{ g in gradOutput = g; return nil }]
            input.gradHooks = [{ g in try run(gradOutput ?? Tensor(shape: output.shape), g) }]
        }
        return output
    }
}

extension Module {
    /// The module's output for `x`, with its hooks run: how containers, training and
    /// scores call a module. `forward` alone skips the hooks, as in PyTorch.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard let hooks, !hooks.isEmpty else { return try forward(x) }
        return try hooks.run(self, x)
    }

    /// This module's hooks, made on first use.
    public func hookSet() -> ModuleHooks {
        if let hooks { return hooks }
        let made = ModuleHooks()
        hooks = made
        return made
    }
}

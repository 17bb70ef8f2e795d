import LopperCore

/// A layer or a network: named parameters, named buffers and named children, a training
/// flag, and `forward`. Names join with dots along the tree, as a PyTorch `state_dict`
/// names them (`fc1.weight`, `blocks.0.bn1.running_mean`), so weights move between the two.
open class Module {
    /// The type shown to users ("Linear", "Conv2d", …).
    public let kind: String
    /// Training mode (dropout active, batch norm using batch statistics).
    open var training = true

    public var ownParameters: [(String, Tensor)] = []
    public var ownBuffers: [(String, Tensor)] = []
    public var ownChildren: [(String, Module)] = []
    /// Shape of one input sample, when known (zoo models set it): data-free scores
    /// (SynFlow) and MAC counts use it.
    public var inputShape: [Int]?
    /// Forward and backward hooks (nil until one is added). Lua-written modules keep theirs
    /// with their table.
    open var hooks: ModuleHooks?

    public init(kind: String) { self.kind = kind }

    /// This module's own parameters, in registration order.
    open var localParameters: [(String, Tensor)] { ownParameters }
    /// This module's own buffers (running statistics), in registration order.
    open var localBuffers: [(String, Tensor)] { ownBuffers }
    /// Direct sub-modules, in order.
    open var children: [(String, Module)] { ownChildren }

    /// A deep copy, hooks left behind (`cloneTree`).
    open func clone() throws -> Module { try cloneTree() }

    /// Replaces the direct child `name` with `m`, under the same name and in the same place.
    open func replaceChild(_ name: String, with m: Module) throws { try replaceOwnChild(name, with: m) }

    /// A module of the same kind and configuration with fresh tensors (and, for a
    /// container, any children: `clone` puts copies of the real ones in their place).
    open func copyStructure() throws -> Module {
        throw TensorError("clone: a \(kind) cannot be copied")
    }

    open func forward(_ x: Tensor) throws -> Tensor {
        throw TensorError("\(kind): forward is not defined")
    }

    /// One line describing the layer itself ("Linear(784, 300)").
    open var summary: String { kind }

    /// Registers a parameter: a leaf that requires grad.
    @discardableResult
    public func addParameter(_ name: String, _ t: Tensor) -> Tensor {
        t.requiresGrad = true
        ownParameters.append((name, t))
        return t
    }

    public func addBuffer(_ name: String, _ t: Tensor) { ownBuffers.append((name, t)) }

    @discardableResult
    public func addChild<M: Module>(_ name: String, _ m: M) -> M {
        ownChildren.append((name, m))
        return m
    }

    /// Every parameter of the tree with its dotted name, depth first in registration order.
    public func namedParameters() -> [(String, Tensor)] { collect { $0.localParameters } }
    /// Every buffer of the tree with its dotted name.
    public func namedBuffers() -> [(String, Tensor)] { collect { $0.localBuffers } }
    public func parameters() -> [Tensor] { namedParameters().map { $0.1 } }

    /// Parameters and buffers, module by module, as PyTorch's `state_dict` orders them.
    public func stateDict() -> [(String, Tensor)] { collect { $0.localParameters + $0.localBuffers } }

    /// Every module of the tree with its dotted path ("" for this one), parents first.
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out = [(prefix, self)]
        for (name, child) in children {
            out += child.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
        }
        return out
    }

    private func collect(_ pick: (Module) -> [(String, Tensor)]) -> [(String, Tensor)] {
        namedModules().flatMap { path, m in
            pick(m).map { (path.isEmpty ? $0.0 : path + "." + $0.0, $0.1) }
        }
    }

    /// Sets training mode on the whole tree.
    public func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.training = on }
    }

    /// Runs `body` with the whole tree in eval mode, then gives every module back the mode
    /// it had (a tree may mix them).
    public func evaluating<T>(_ body: () throws -> T) rethrows -> T {
        let modes = namedModules().map { ($0.1, $0.1.training) }
        defer { for (m, on) in modes { m.training = on } }
        train(false)
        return try body()
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// The tree, one module a line, indented, with parameter counts.
    public func describe() -> String {
        var lines: [String] = []
        func walk(_ m: Module, _ name: String, _ depth: Int) {
            let label = name.isEmpty ? m.summary : "(\(name)) \(m.summary)"
            lines.append(String(repeating: "  ", count: depth) + label)
            for (n, c) in m.children { walk(c, n, depth + 1) }
        }
        walk(self, "", 0)
        lines.append("\(parameterCount) parameters")
        return lines.joined(separator: "\n")
    }

    /// Copies values from `state` (name → tensor) into this tree's parameters and buffers,
    /// in place. Every name must be present with the same shape unless `strict` is off.
    /// Masked parameters keep their masks: removed weights stay zero.
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true, source: String = "load_state_dict") throws {
        let mine = stateDict()
        let names = Set(mine.map { $0.0 })
        if strict {
            let missing = mine.map { $0.0 }.filter { state[$0] == nil }
            let unexpected = state.keys.filter { !names.contains($0) }.sorted()
            if !missing.isEmpty || !unexpected.isEmpty {
                var parts: [String] = []
                if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
                if !unexpected.isEmpty { parts.append("unexpected \(unexpected.joined(separator: ", "))") }
                throw TensorError("\(source): names do not match the model: \(parts.joined(separator: "; "))")
            }
        }
        for (name, t) in mine {
            guard let v = state[name] else { continue }
            guard v.count == t.count, v.shape == t.shape || (v.count == 1 && t.count == 1) else {
                throw TensorError("\(source): \(name) has shape \(describeShape(v.shape)) in the file but \(describeShape(t.shape)) in the model")
            }
            try Autograd.noGrad { try t.copy_(v.reshape(t.shape)) }
            if let mask = t.mask { try t.mul_(mask) }
        }
    }
}

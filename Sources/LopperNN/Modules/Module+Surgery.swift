import LopperCore

/// Editing a network after it is built: replacing, inserting and removing children, and
/// deep copies. Names stay as they were (a Sequential is not renumbered), so masks,
/// checkpoints and scores keyed by name still match.
extension Module {
    /// `clone` for native modules: the same structure, hooks left behind, every parameter
    /// and buffer a new tensor with the same values, mask and requires-grad flag.
    public func cloneTree() throws -> Module {
        // Rebuilding draws fresh weights; the values are overwritten, and the shared
        // generator is put back so that a clone does not move the script's random stream.
        let random = RandomGenerator.shared.snapshot
        defer { try? RandomGenerator.shared.restore(random) }
        let copy = try copyStructure()
        copy.ownChildren = try children.map { ($0.0, try $0.1.clone()) }
        let from = localParameters + localBuffers, to = copy.localParameters + copy.localBuffers
        guard from.map({ $0.0 }) == to.map({ $0.0 }) else {
            throw TensorError("clone: \(kind) was rebuilt with tensors \(to.map { $0.0 }) instead of \(from.map { $0.0 })")
        }
        for ((name, a), (_, b)) in zip(from, to) {
            guard a.shape == b.shape else { throw TensorError("clone: \(kind).\(name) was rebuilt with another shape") }
            try Autograd.noGrad { try b.copy_(a) }
            b.requiresGrad = a.requiresGrad
            b.mask = try a.mask.map { try $0.clone() }
        }
        copy.training = training
        copy.inputShape = inputShape
        return copy
    }

    /// `replaceChild` for native modules.
    public func replaceOwnChild(_ name: String, with m: Module) throws {
        guard let i = ownChildren.firstIndex(where: { $0.0 == name }) else {
            throw TensorError("replace: \(kind) has no child '\(name)' (its children: \(childList))")
        }
        ownChildren[i].1 = m
    }

    /// The module at a dotted path ("" for this one).
    public func module(at path: String) throws -> Module {
        guard let found = namedModules().first(where: { $0.0 == path }) else {
            throw TensorError("no module at '\(path)' in \(kind) (its children: \(childList))")
        }
        return found.1
    }

    public var childList: String { children.isEmpty ? "none" : children.map { $0.0 }.joined(separator: ", ") }
}

extension Sequential {
    /// Inserts `m` as child `name` before position `index` (0-based; `children.count`
    /// appends). Without a name it takes the first unused number.
    public func insert(_ m: Module, at index: Int, name: String? = nil) throws {
        guard index >= 0, index <= ownChildren.count else {
            throw TensorError("insert: position \(index + 1) is outside 1…\(ownChildren.count + 1)")
        }
        let taken = Set(ownChildren.map { $0.0 })
        let chosen = name ?? (0...).lazy.map(String.init).first { !taken.contains($0) }!
        guard !taken.contains(chosen) else { throw TensorError("insert: the Sequential already has a child named '\(chosen)'") }
        guard !chosen.isEmpty, !chosen.contains(".") else { throw TensorError("insert: a child's name must be non-empty and without dots, got '\(chosen)'") }
        ownChildren.insert((chosen, m), at: index)
    }

    /// Removes the child `name` and returns it.
    @discardableResult
    public func removeChild(_ name: String) throws -> Module {
        guard let i = ownChildren.firstIndex(where: { $0.0 == name }) else {
            throw TensorError("remove: the Sequential has no child '\(name)' (its children: \(childList))")
        }
        return ownChildren.remove(at: i).1
    }
}

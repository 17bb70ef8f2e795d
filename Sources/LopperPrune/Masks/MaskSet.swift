import LopperCore
import LopperNN

/// Named masks, one per prunable tensor, in network order: 1 keeps a weight, 0 removes it.
/// A value: operations return new sets and never change the network until `apply`.
public final class MaskSet {
    public private(set) var entries: [(name: String, mask: Tensor)]

    public init(_ entries: [(String, Tensor)]) throws {
        for (name, m) in entries {
            if let bad = m.toArray().first(where: { $0 != 0 && $0 != 1 }) {
                throw TensorError("masks: \(name) holds \(bad); a mask holds only 0 and 1")
            }
        }
        self.entries = try entries.map { ($0.0, try $0.1.contiguous()) }
    }

    /// Masks known to hold only 0 and 1.
    init(checked entries: [(String, Tensor)]) throws { self.entries = try entries.map { ($0.0, try $0.1.contiguous()) } }

    /// The masks the network's prunable tensors carry now (all ones where none is set).
    public static func current(_ net: Module, _ targets: [PrunableTensor]) throws -> MaskSet {
        try MaskSet(checked: try targets.map { p in (p.name, try p.tensor.mask?.clone().detach() ?? Tensor(filled: 1, shape: p.tensor.shape)) })
    }

    public var names: [String] { entries.map { $0.name } }
    public func mask(_ name: String) -> Tensor? { entries.first { $0.name == name }?.mask }

    /// Kept and total entries of one mask.
    static func counts(_ m: Tensor) -> (kept: Int, total: Int) {
        var kept = 0
        let p = m.data
        for i in 0..<m.count where p[i] != 0 { kept += 1 }
        return (kept, m.count)
    }

    /// Kept and total entries per mask.
    public var perLayer: [(name: String, kept: Int, total: Int)] {
        entries.map { e in let c = MaskSet.counts(e.mask); return (e.name, c.kept, c.total) }
    }

    /// Kept and total over all masks.
    public var count: (kept: Int, total: Int) {
        perLayer.reduce((0, 0)) { ($0.0 + $1.kept, $0.1 + $1.total) }
    }

    /// Fraction kept over all masks.
    public var density: Double { let c = count; return c.total == 0 ? 1 : Double(c.kept) / Double(c.total) }

    private func combine(_ other: MaskSet, _ op: String, _ f: (Float, Float) -> Float) throws -> MaskSet {
        guard Set(names) == Set(other.names) else {
            throw TensorError("masks.\(op): the sets name different tensors: \(names.joined(separator: ", ")) and \(other.names.joined(separator: ", "))")
        }
        let theirs = names.map { other.mask($0)! }
        return try MaskSet(checked: try zip(entries, theirs).map { a, m in
            let b = (name: a.name, mask: m)
            guard a.mask.shape == b.mask.shape else {
                throw TensorError("masks.\(op): \(a.name) is \(describeShape(a.mask.shape)) in one set and \(describeShape(b.mask.shape)) in the other")
            }
            return (a.name, try Tensor.zip(a.mask, b.mask, op: op, f))
        })
    }

    public func union(_ o: MaskSet) throws -> MaskSet { try combine(o, "union") { max($0, $1) } }
    public func intersection(_ o: MaskSet) throws -> MaskSet { try combine(o, "intersection") { min($0, $1) } }
    /// Kept here and not in `o`.
    public func difference(_ o: MaskSet) throws -> MaskSet { try combine(o, "difference") { $0 * (1 - $1) } }
    public func inverted() throws -> MaskSet { try MaskSet(checked: try entries.map { ($0.name, try $0.mask.map { 1 - $0 }) }) }

    /// Jaccard overlap |a ∩ b| / |a ∪ b| of kept weights, per mask and overall (1 when both are empty).
    public func jaccard(_ o: MaskSet) throws -> (perLayer: [(String, Double)], overall: Double) {
        let i = try intersection(o).perLayer, u = try union(o).perLayer
        let per = zip(i, u).map { ($0.name, $1.kept == 0 ? 1 : Double($0.kept) / Double($1.kept)) }
        let ik = i.reduce(0) { $0 + $1.kept }, uk = u.reduce(0) { $0 + $1.kept }
        return (per, uk == 0 ? 1 : Double(ik) / Double(uk))
    }

    /// Each mask's entries permuted at random: the same per-layer density, a random
    /// layout (the layer-wise shuffle sanity check of Frankle et al. 2021 and SynFlow).
    public func shuffled(_ rng: RandomGenerator) throws -> MaskSet {
        try MaskSet(checked: try entries.map { e in
            let t = try e.mask.clone().detach()
            var values = t.toArray()
            Tensor.shuffle(&values, generator: rng)
            for i in 0..<values.count { t.data[i] = values[i] }
            return (e.name, t)
        })
    }

    /// Sets these masks on `net`'s parameters and zeroes the weights they remove.
    public func apply(to net: Module) throws {
        let params = Dictionary(net.namedParameters(), uniquingKeysWith: { a, _ in a })
        for e in entries {
            guard let p = params[e.name] else { throw TensorError("masks.apply: the network has no parameter \(e.name)") }
            guard p.shape == e.mask.shape else {
                throw TensorError("masks.apply: \(e.name) is \(describeShape(p.shape)) in the network but the mask is \(describeShape(e.mask.shape))")
            }
        }
        for e in entries {
            let p = params[e.name]!
            p.mask = try e.mask.clone().detach()
            try p.mul_(p.mask!)
        }
    }

    /// Removes every mask from `net` (weights keep their values).
    public static func clear(_ net: Module) {
        for (_, p) in net.namedParameters() { p.mask = nil }
    }
}

extension Tensor {
    /// A new contiguous tensor with every element `value`.
    convenience init(filled value: Float, shape: [Int]) throws {
        try self.init(shape: shape)
        fill_(value)
    }
}

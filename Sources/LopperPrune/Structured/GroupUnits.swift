import LopperCore
import LopperNN

/// The channels of one dependency group as pruning units (`structure = "group"`): scored
/// from its members, removed from all of them at once — producers' rows and biases, batch
/// norm entries, consumers' columns — so the masked network is the compacted one.
final class GroupUnits: PruneUnits {
    let group: ChannelGroup
    let count: Int
    var kept: [Bool]
    var name: String { group.name }
    var shape: [Int] { group.producers[0].weight.shape }
    let reduce: PruneSpec.GroupReduce
    /// Scored members: a producer's row or a consumer's columns, and where its weight's
    /// scores are in the targets.
    let scored: [(member: ChannelGroup.Member, producer: Bool, index: Int)]
    let byMax: Bool

    init(_ group: ChannelGroup, _ index: [ObjectIdentifier: Int], _ spec: PruneSpec) throws {
        self.group = group
        count = group.channels
        reduce = spec.groupReduce
        byMax = spec.channelReduce == .max
        // Scores that give the channel's value to each weight of its row say nothing of
        // the consumers' columns: those scores count the producers only.
        var consumers = byMax ? [] : group.consumers
        if case .producers = spec.groupReduce { consumers = [] }
        scored = group.producers.map { ($0, true, index[ObjectIdentifier($0.weight)]!) }
            + consumers.compactMap { m in index[ObjectIdentifier(m.weight)].map { (m, false, $0) } }
        let masks = try group.producers.map { try $0.weight.mask?.contiguous() }
        kept = (0..<group.channels).map { c in
            masks.contains { m in
                guard let m else { return true }
                let per = m.count / m.shape[0]
                return (0..<per).contains { m.data[c * per + $0] != 0 }
            }
        }
    }

    /// The prunable groups of `net` whose producers are all among `targets`.
    static func make(_ net: Module, _ targets: [PrunableTensor], _ spec: PruneSpec) throws -> [GroupUnits] {
        let index = Dictionary(targets.enumerated().map { (ObjectIdentifier($1.tensor), $0) }, uniquingKeysWith: { a, _ in a })
        let groups = try DependencyGroups.find(net, inputShape: spec.inputShape)
        let chosen = groups.filter { $0.prunable && $0.producers.allSatisfy { index[ObjectIdentifier($0.weight)] != nil } }
        guard !chosen.isEmpty else {
            let why = groups.filter { !$0.producers.isEmpty }.map { "\($0.name): \($0.fixed ?? "a producer is not prunable")" }
            throw TensorError("prune: structure = \"group\" found no group to prune (\(why.joined(separator: "; ")))")
        }
        return try chosen.map { try GroupUnits($0, index, spec) }
    }

    /// Each member's score per channel (its row, or its block of columns), reduced over members.
    func scores(_ all: [Tensor]) throws -> [Float] {
        let rows = try scored.map { s -> [Float] in
            let t = try all[s.index].contiguous()
            var out = [Float](repeating: byMax ? -.infinity : 0, count: count)
            let o = t.shape[0], i = t.rank > 1 ? t.shape[1] : 1, inner = t.count / max(o * i, 1)
            for r in 0..<o { for col in 0..<i { for k in 0..<inner {
                let v = t.data[(r * i + col) * inner + k]
                let c = s.producer ? r : col / s.member.factor
                out[c] = byMax ? Swift.max(out[c], v) : out[c] + v
            } } }
            return out
        }
        switch reduce {
        case .sum, .producers: return (0..<count).map { c in rows.reduce(0) { $0 + $1[c] } }
        case .mean: return (0..<count).map { c in rows.reduce(0) { $0 + $1[c] } / Float(rows.count) }
        case .max: return (0..<count).map { c in rows.map { $0[c] }.max()! }
        case .custom(let f):
            let m = try Tensor(shape: [rows.count, count])
            for (r, row) in rows.enumerated() { (m.data + r * count).update(from: row, count: count) }
            let out = try f(m).contiguous()
            guard out.count == count else {
                throw TensorError("prune: group_reduce gave \(describeShape(out.shape)) for group \(name), expected [\(count)] (one score per channel)")
            }
            return Array(UnsafeBufferPointer(start: out.data, count: count))
        }
    }

    func commit(_ net: Module) throws {
        for p in group.producers {
            try GroupUnits.mask(p.weight, kept, producer: true, factor: 1)
            if let b = p.bias { try GroupUnits.mask(b, kept, producer: true, factor: 1) }
        }
        for n in group.norms {
            try GroupUnits.mask(n.weight, kept, producer: true, factor: 1)
            if let b = n.bias { try GroupUnits.mask(b, kept, producer: true, factor: 1) }
        }
        for q in group.consumers { try GroupUnits.mask(q.weight, kept, producer: false, factor: q.factor) }
    }

    /// Masks (and zeroes) the rows of `t`, or its columns in blocks of `factor`, whose
    /// channel is not kept; the mask it had stays in force.
    static func mask(_ t: Tensor, _ kept: [Bool], producer: Bool, factor: Int) throws {
        let m = try t.mask?.contiguous().clone() ?? Tensor(filled: 1, shape: t.shape)
        let o = t.shape[0], i = t.rank > 1 ? t.shape[1] : 1, inner = t.count / max(o * i, 1)
        for r in 0..<o { for col in 0..<i {
            let c = producer ? r : col / factor
            if !kept[c] { for k in 0..<inner { m.data[(r * i + col) * inner + k] = 0 } }
        } }
        t.mask = m
        try t.mul_(m)
    }
}

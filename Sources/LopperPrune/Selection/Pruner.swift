import LopperCore
import LopperNN

/// What a pruning call did.
public struct PruneReport {
    /// Kept and total weights per prunable tensor, after pruning.
    public var layers: [(name: String, kept: Int, total: Int)]
    /// The density the call aimed at (fraction of prunable weights, or of channels).
    public var targetDensity: Double
    /// The density reached, counted the same way.
    public var reachedDensity: Double
    /// Prunable tensors left with no weight.
    public var collapsed: [String]
    /// Whether some path still joins input to output (nil when the input shape is unknown).
    public var connected: Bool?
    public var rounds: Int
}

/// Masks the lowest-scoring weights (or channels) of a network.
public enum Pruner {
    public typealias ScoreFunction = () throws -> [Tensor]

    /// Prunes `targets` of `net` as `spec` says, calling `score` once per round. Weights
    /// already removed stay removed; amounts count what remains. Counts are exact: ties at
    /// the threshold are broken in network order.
    @discardableResult
    public static func prune(_ net: Module, targets: [PrunableTensor], spec: PruneSpec,
                             score: ScoreFunction) throws -> PruneReport {
        try validate(spec, targets)
        let units: [PruneUnits] = spec.structure == .group
            ? try GroupUnits.make(net, targets, spec)
            : try targets.enumerated().map { try Units($1, index: $0, spec.structure, reduce: spec.channelReduce) }
        try validate(spec.overrides, units)
        let start = units.map { $0.keptCount() }
        if case .count(let k) = spec.target, k > start.reduce(0, +) {
            throw TensorError("prune: count \(k) is more than the \(start.reduce(0, +)) \(spec.structure == .unstructured ? "weights" : "channels") left")
        }
        let groups = groups(spec, units)
        let finals = finalKeeps(spec, groups, units, start)
        let progress = spec.iterations > 1 ? ProgressLine("prune", total: spec.iterations) : nil
        defer { progress?.finish() }
        for k in 1...spec.iterations {
            try StopRequest.check("prune", at: "round \(k) of \(spec.iterations)")
            progress?.update(k - 1, "scoring")
            let scores = try score()
            try Scores.validate(scores, targets, source: "prune")
            let unitScores = try units.map { try $0.scores(scores) }
            // Groups pruned together: each overridden or layer-scoped tensor alone, the rest pooled.
            for (group, finalKept) in zip(groups, finals) {
                let startKept = group.reduce(0) { $0 + start[$1] }
                let want = Int(spec.density(round: k, of: spec.iterations, start: Double(max(startKept, 1)),
                                            final: Double(finalKept)).rounded(.toNearestOrEven))
                let keep = k == spec.iterations ? finalKept : min(startKept, max(finalKept, want))
                try select(group, keep: keep, units: units, scores: unitScores, minPerLayer: group.count > 1 ? spec.minPerLayer : 0)
            }
            for u in units { try u.commit(net) }
        }
        let layers = try targets.map { t -> (String, Int, Int) in
            let c = MaskSet.counts(try t.tensor.mask ?? Tensor(filled: 1, shape: t.tensor.shape))
            return (t.name, c.kept, c.total)
        }
        let unitTotal = units.reduce(0) { $0 + $1.count }
        let report = PruneReport(
            layers: layers,
            targetDensity: Double(finals.reduce(0, +)) / Double(max(unitTotal, 1)),
            reachedDensity: Double(units.reduce(0) { $0 + $1.keptCount() }) / Double(max(unitTotal, 1)),
            collapsed: layers.filter { $0.1 == 0 }.map { $0.0 },
            connected: try Connectivity.hasPath(net),
            rounds: spec.iterations)
        return report
    }

    static func validate(_ spec: PruneSpec, _ targets: [PrunableTensor]) throws {
        switch spec.target {
        case .amount(let a): guard a >= 0 && a <= 1 else { throw TensorError("prune: amount must be in [0, 1], got \(a)") }
        case .density(let d): guard d >= 0 && d <= 1 else { throw TensorError("prune: density must be in [0, 1], got \(d)") }
        case .count(let k):
            guard k >= 0 else { throw TensorError("prune: count must be non-negative, got \(k)") }
            guard spec.scope == .global, spec.overrides.isEmpty, spec.allocation == .uniform else {
                throw TensorError("prune: count chooses across all layers: it takes neither scope = \"layer\", overrides nor an allocation")
            }
        }
        guard spec.iterations >= 1 else { throw TensorError("prune: iterations must be at least 1, got \(spec.iterations)") }
        guard spec.minPerLayer >= 0 else { throw TensorError("prune: min_per_layer must be non-negative, got \(spec.minPerLayer)") }
        if spec.structure != .unstructured {
            for t in targets where t.tensor.rank < 2 {
                throw TensorError("prune: channel pruning needs weights of rank 2 or more; \(t.name) is \(describeShape(t.tensor.shape))")
            }
        }
    }

    /// Overrides name units that are pruned (tensors, or dependency groups).
    static func validate(_ overrides: [String: Double], _ units: [PruneUnits]) throws {
        let names = Set(units.map { $0.name })
        for (name, v) in overrides {
            guard names.contains(name) else {
                throw TensorError("prune: override for \(name), which is not prunable (prunable: \(units.map { $0.name }.joined(separator: ", ")))")
            }
            guard v >= 0 && v <= 1 else { throw TensorError("prune: override for \(name) must be in [0, 1], got \(v)") }
        }
    }

    /// Indices of units pruned together.
    static func groups(_ spec: PruneSpec, _ units: [PruneUnits]) -> [[Int]] {
        let layerwise = spec.scope == .layer || (spec.allocation != .uniform && isDensity(spec))
        var pool: [Int] = [], out: [[Int]] = []
        for (i, t) in units.enumerated() {
            if layerwise || spec.overrides[t.name] != nil { out.append([i]) } else { pool.append(i) }
        }
        if !pool.isEmpty { out.append(pool) }
        return out
    }

    static func isDensity(_ spec: PruneSpec) -> Bool { if case .density = spec.target { return true } else { return false } }

    /// Units each group keeps at the end, in the order of `groups`.
    static func finalKeeps(_ spec: PruneSpec, _ groups: [[Int]], _ units: [PruneUnits], _ start: [Int]) -> [Int] {
        let kept = groups.map { g in g.reduce(0) { $0 + start[$1] } }
        switch spec.target {
        case .amount(let a):
            // As torch.nn.utils.prune: remove round(amount · remaining), half to even.
            return zip(groups, kept).map { g, k in
                let amount = g.count == 1 ? spec.overrides[units[g[0]].name] ?? a : a
                return k - Int((amount * Double(k)).rounded(.toNearestOrEven))
            }
        case .count(let k):
            return kept.map { $0 - min(k, $0) }
        case .density(let d):
            let densities = spec.allocation.densities(shapes: units.map { $0.shape }, density: d)
            var out = zip(groups, kept).map { g, k -> Int in
                guard g.count == 1 else { return 0 }
                let di = spec.overrides[units[g[0]].name] ?? densities[g[0]]
                return min(k, Int((di * Double(units[g[0]].count)).rounded(.toNearestOrEven)))
            }
            // The pool keeps what the overall target leaves after the tensors pruned alone.
            if let p = groups.firstIndex(where: { $0.count > 1 }) {
                let total = units.reduce(0) { $0 + $1.count }
                let alone = out.reduce(0, +)
                out[p] = min(kept[p], max(0, Int((d * Double(total)).rounded(.toNearestOrEven)) - alone))
            }
            return out
        }
    }

    /// Removes the lowest-scoring kept units of `group` until `keep` remain.
    static func select(_ group: [Int], keep: Int, units: [PruneUnits], scores: [[Float]], minPerLayer: Int) throws {
        var candidates: [(Float, Int, Int)] = []   // score, tensor, unit
        for i in group {
            for (u, s) in scores[i].enumerated() where units[i].kept[u] { candidates.append((s, i, u)) }
        }
        let remove = candidates.count - keep
        guard remove > 0 else { return }
        if minPerLayer > 0 {
            // Lowest first, skipping a layer once it is down to its floor: the count stays
            // exact, taken from the other layers, while any can give.
            var left = Dictionary(group.map { i in (i, candidates.filter { $0.1 == i }.count) }, uniquingKeysWith: { a, _ in a })
            let floor = Dictionary(group.map { i in (i, min(minPerLayer, left[i]!)) }, uniquingKeysWith: { a, _ in a })
            var taken = 0
            for c in candidates.enumerated().sorted(by: { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }).map({ $0.element }) {
                guard taken < remove else { break }
                guard left[c.1]! > floor[c.1]! else { continue }
                units[c.1].kept[c.2] = false
                left[c.1]! -= 1
                taken += 1
            }
            return
        }
        var removed: [Bool]
        if remove >= candidates.count {
            removed = Array(repeating: true, count: candidates.count)
        } else {
            var values = candidates.map { $0.0 }
            let threshold = values.withUnsafeMutableBufferPointer { b -> Float in
                Tensor.select(b.baseAddress!, count: b.count, k: remove - 1, by: { $0 < $1 })
                return b[remove - 1]
            }
            var below = candidates.reduce(0) { $0 + ($1.0 < threshold ? 1 : 0) }
            removed = candidates.map { c in
                if c.0 < threshold { return true }
                if c.0 == threshold && below < remove { below += 1; return true }
                return false
            }
        }
        for (j, c) in candidates.enumerated() where removed[j] { units[c.1].kept[c.2] = false }
    }
}

/// What one pruning call keeps or removes, unit by unit: the weights of a tensor, its
/// output channels, or the channels of a dependency group.
protocol PruneUnits: AnyObject {
    var name: String { get }
    var count: Int { get }
    var kept: [Bool] { get set }
    /// The shape an allocation (ERK) sizes the units by.
    var shape: [Int] { get }
    /// Per-unit scores from the scores of every target.
    func scores(_ all: [Tensor]) throws -> [Float]
    /// Masks (and zeroes) what is no longer kept.
    func commit(_ net: Module) throws
}

extension PruneUnits {
    func keptCount() -> Int { kept.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// A tensor seen as units (weights, or output channels) that are kept or removed.
final class Units: PruneUnits {
    let target: PrunableTensor
    let index: Int
    let structure: PruneSpec.Structure
    let count: Int
    let size: Int
    var kept: [Bool]
    var name: String { target.name }
    var shape: [Int] { target.tensor.shape }

    let reduce: PruneSpec.ChannelReduce

    init(_ target: PrunableTensor, index: Int, _ structure: PruneSpec.Structure, reduce: PruneSpec.ChannelReduce = .sum) throws {
        self.target = target
        self.index = index
        self.structure = structure
        self.reduce = reduce
        let t = target.tensor
        let mask = try (t.mask ?? Tensor(filled: 1, shape: t.shape)).contiguous()
        if structure == .channel {
            let rows = t.shape[0], per = t.count / rows
            count = rows
            size = per
            kept = (0..<rows).map { r in (0..<per).contains { mask.data[r * per + $0] != 0 } }
        } else {
            count = t.count
            size = 1
            kept = (0..<t.count).map { mask.data[$0] != 0 }
        }
    }

    /// Per-unit scores: the element scores, or their sums (or largest) over each channel.
    func scores(_ all: [Tensor]) throws -> [Float] {
        let c = try all[index].contiguous()
        if size == 1 { return Array(UnsafeBufferPointer(start: c.data, count: count)) }
        return (0..<count).map { r in
            let row = UnsafeBufferPointer(start: c.data + r * size, count: size)
            return reduce == .max ? row.max()! : row.reduce(0, +)
        }
    }

    /// Sets the tensor's mask from `kept` and zeroes what it removes; channel pruning also
    /// masks the layer's bias and the following BatchNorm at removed channels, so a removed
    /// channel outputs exactly zero, as if it were cut out.
    func commit(_ net: Module) throws {
        let t = target.tensor
        let old = try (t.mask ?? Tensor(filled: 1, shape: t.shape)).contiguous()
        let mask = try Tensor(filled: 0, shape: t.shape)
        for u in 0..<count where kept[u] {
            for k in 0..<size { mask.data[u * size + k] = old.data[u * size + k] }
        }
        t.mask = mask
        try t.mul_(mask)
        guard structure == .channel else { return }
        let rows = try Tensor(filled: 0, shape: [count])
        for u in 0..<count where kept[u] { rows.data[u] = 1 }
        var companions: [Tensor] = []
        if let b = (target.layer as? Linear)?.bias ?? (target.layer as? Conv2d)?.bias { companions.append(b) }
        if let bn = Layers.followingNorm(net, target.layer) { companions += [bn.weight, bn.bias] }
        for c in companions where c.shape == [count] {
            let m = try c.mask.map { try $0.mul(rows) } ?? rows.clone()
            c.mask = m
            try c.mul_(m)
        }
    }
}

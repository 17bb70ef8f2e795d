import Foundation
import LopperCore
import LopperNN

/// Data-independent neuron coresets, Lopper's reading of Tukan et al. 2022 ("Pruning Neural
/// Networks via Coresets and Convex Geometry: Towards No Assumptions"): each neuron (or
/// channel) of a layer is the vector of its outgoing weights — its columns in every layer
/// that reads it; the minimum volume enclosing ellipsoid of {±wⱼ} (Khachiyan) gives each
/// neuron its leverage sⱼ = wⱼᵀG⁻¹wⱼ, which sums (weighted by the ellipsoid's point weights)
/// to the dimension; m neurons are kept, sampled with probability pⱼ ∝ sⱼ and their
/// outgoing weights rescaled by (draws of j)/(draws · pⱼ), or the m largest kept as they are.
public enum NeuronCoreset {
    /// The largest outgoing dimension taken (G is that many squared doubles).
    public static let maxDimension = 4096

    public struct Sensitivities {
        public let group: ChannelGroup
        public let values: [Double]
        public let ellipsoid: MVEE.Result
    }

    /// The group whose producers include `weight`.
    static func group(of weight: Tensor, in net: Module, name: String) throws -> ChannelGroup {
        let groups = try DependencyGroups.find(net)
        guard let g = groups.first(where: { $0.producers.contains { $0.weight === weight } }) else {
            throw TensorError("coreset: \(name) makes no channels the network's graph shows")
        }
        if let why = g.fixed { throw TensorError("coreset: the neurons of \(name) cannot be pruned: \(why)") }
        guard !g.consumers.isEmpty else { throw TensorError("coreset: nothing reads the neurons of \(name)") }
        return g
    }

    /// Each neuron's leverage with respect to the ellipsoid of its outgoing weights.
    public static func sensitivities(_ net: Module, weight: Tensor, name: String, tolerance: Double = 1e-3) throws -> Sensitivities {
        let g = try group(of: weight, in: net, name: name)
        let n = g.channels
        // Outgoing dimension: every consumer's rows × the columns of one channel × its kernel.
        var d = 0
        for q in g.consumers {
            let (per, overflow) = (q.weight.count / q.weight.shape[1]).multipliedReportingOverflow(by: q.factor)
            guard !overflow else { throw TensorError("coreset: \(q.name) is too large") }
            d += per
        }
        guard d <= maxDimension else {
            throw TensorError("coreset: each neuron of \(name) has \(d) outgoing weights; the ellipsoid needs a \(d)×\(d) matrix (at most \(maxDimension))")
        }
        var points = [Double](repeating: 0, count: n * d)
        var offset = 0
        for q in g.consumers {
            let w = try q.weight.contiguous()
            let o = w.shape[0], i = w.shape[1], inner = w.count / (o * i), f = q.factor
            for r in 0..<o { for col in 0..<i { for k in 0..<inner {
                let j = col / f, slot = offset + (r * f + col % f) * inner + k
                points[j * d + slot] = Double(w.data[(r * i + col) * inner + k])
            } } }
            offset += o * f * inner
        }
        let e = try MVEE.khachiyan(points, count: n, dimension: d, tolerance: tolerance)
        return Sensitivities(group: g, values: e.leverages.map { max($0, 0) }, ellipsoid: e)
    }

    public struct Selection {
        public let kept: [Int]
        /// Per kept neuron, the factor its outgoing weights were multiplied by.
        public let scales: [Double]
        public let draws: Int
        public let sensitivities: [Double]
    }

    /// Keeps `m` neurons of the layer whose weight is `weight`, masking the rest out of
    /// its group (rows, norms, consumers' columns) and, when sampled, rescaling the kept
    /// neurons' outgoing weights.
    public static func prune(_ net: Module, weight: Tensor, name: String, keep m: Int, deterministic: Bool = false,
                             tolerance: Double = 1e-3, rng: RandomGenerator = .shared) throws -> Selection {
        let s = try sensitivities(net, weight: weight, name: name, tolerance: tolerance)
        let n = s.group.channels
        guard m >= 1 && m <= n else { throw TensorError("coreset: keep must be between 1 and \(n) (the neurons of \(name)), got \(m)") }
        var counts = [Int](repeating: 0, count: n), draws = 0
        let total = s.values.reduce(0, +)
        let p = s.values.map { total > 0 ? $0 / total : 1 / Double(n) }
        if deterministic {
            for j in s.values.enumerated().sorted(by: { ($1.element, $0.offset) < ($0.element, $1.offset) }).prefix(m).map({ $0.offset }) { counts[j] = 1 }
        } else {
            // i.i.d. draws ∝ sⱼ until m distinct neurons are in.
            var cumulative = [Double](), acc = 0.0
            for v in p { acc += v; cumulative.append(acc) }
            var distinct = 0
            while distinct < m {
                let r = Double(rng.next() >> 11) * 0x1p-53 * acc
                var lo = 0, hi = n - 1
                while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < r { lo = mid + 1 } else { hi = mid } }
                while p[lo] == 0 && lo < n - 1 { lo += 1 }
                if counts[lo] == 0 { distinct += 1 }
                counts[lo] += 1
                draws += 1
                guard draws < 1 << 30 else { throw TensorError("coreset: sampling \(m) distinct neurons of \(name) did not end") }
            }
        }
        let kept = (0..<n).filter { counts[$0] > 0 }
        let scales = kept.map { deterministic ? 1 : Double(counts[$0]) / (Double(draws) * p[$0]) }
        let keep = (0..<n).map { counts[$0] > 0 }
        for prod in s.group.producers {
            try GroupUnits.mask(prod.weight, keep, producer: true, factor: 1)
            if let b = prod.bias { try GroupUnits.mask(b, keep, producer: true, factor: 1) }
        }
        for norm in s.group.norms {
            try GroupUnits.mask(norm.weight, keep, producer: true, factor: 1)
            if let b = norm.bias { try GroupUnits.mask(b, keep, producer: true, factor: 1) }
        }
        for q in s.group.consumers {
            try GroupUnits.mask(q.weight, keep, producer: false, factor: q.factor)
            if !deterministic {
                guard q.weight.isContiguous else { throw TensorError("coreset: \(q.name) is not contiguous") }
                let scale = Dictionary(uniqueKeysWithValues: zip(kept, scales))
                let o = q.weight.shape[0], i = q.weight.shape[1], inner = q.weight.count / (o * i)
                for r in 0..<o { for col in 0..<i {
                    guard let f = scale[col / q.factor] else { continue }
                    for k in 0..<inner { q.weight.data[(r * i + col) * inner + k] *= Float(f) }
                } }
            }
        }
        return Selection(kept: kept, scales: scales, draws: draws, sensitivities: s.values)
    }
}

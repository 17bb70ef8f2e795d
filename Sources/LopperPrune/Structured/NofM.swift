import LopperCore
import LopperNN

/// N:M structured sparsity (`structure = "2:4"`): in every group of M consecutive weights
/// along the input dimension — a Linear's inputs, a Conv2d's input channels at each kernel
/// position, as NVIDIA's ASP groups them — the N highest-scored stay. Weights already
/// removed count as removed; a group with fewer than N left keeps what it has.
public enum NofM {
    /// Parses "N:M" (1 ≤ N < M ≤ 64).
    public static func parse(_ s: String) -> (Int, Int)? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let n = Int(parts[0]), let m = Int(parts[1]), n >= 1, n < m, m <= 64 else { return nil }
        return (n, m)
    }

    public static func prune(_ net: Module, targets: [PrunableTensor], n: Int, m: Int, score: Pruner.ScoreFunction) throws -> PruneReport {
        for t in targets {
            let w = t.tensor
            guard w.rank == 2 || w.rank == 4 else {
                throw TensorError("prune: \(n):\(m) sparsity needs Linear or Conv2d weights; \(t.name) is \(describeShape(w.shape))")
            }
            guard w.shape[1] % m == 0 else {
                throw TensorError("prune: \(n):\(m) groups \(m) inputs at a time, but \(t.name) has \(w.shape[1]) inputs (not a multiple of \(m))")
            }
        }
        let scores = try score()
        try Scores.validate(scores, targets, source: "prune")
        var layers: [(name: String, kept: Int, total: Int)] = []
        try Autograd.noGrad {
            for (t, s) in zip(targets, scores) {
                let w = t.tensor
                let inputs = w.shape[1], inner = w.count / (w.shape[0] * inputs)   // kernel positions
                let sc = try s.contiguous()
                let old = try (w.mask ?? Tensor(filled: 1, shape: w.shape)).contiguous()
                let mask = try Tensor(shape: w.shape)
                var group = [(Float, Int)]()
                group.reserveCapacity(m)
                for o in 0..<w.shape[0] {
                    for k in 0..<inner {
                        for g in stride(from: 0, to: inputs, by: m) {
                            group.removeAll(keepingCapacity: true)
                            for i in g..<(g + m) {
                                let at = (o * inputs + i) * inner + k
                                if old.data[at] != 0 { group.append((sc.data[at], at)) }
                            }
                            // Highest first; ties to the earlier position.
                            group.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                            for (_, at) in group.prefix(n) { mask.data[at] = 1 }
                        }
                    }
                }
                w.mask = mask
                try w.mul_(mask)
                let c = MaskSet.counts(mask)
                layers.append((t.name, c.kept, c.total))
            }
        }
        let kept = layers.reduce(0) { $0 + $1.kept }, total = layers.reduce(0) { $0 + $1.total }
        return PruneReport(layers: layers, targetDensity: Double(n) / Double(m), reachedDensity: Double(kept) / Double(max(total, 1)),
                           collapsed: layers.filter { $0.kept == 0 }.map { $0.name }, connected: try Connectivity.hasPath(net), rounds: 1)
    }
}

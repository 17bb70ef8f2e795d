import LopperCore

/// How a target density is spread over layers.
public enum Allocation: String, CaseIterable {
    /// Every layer at the target density.
    case uniform
    /// Erdős–Rényi (Mocanu et al. 2018): density ∝ (n_in + n_out) / (n_in · n_out).
    case er
    /// Erdős–Rényi-Kernel (Evci et al. 2020): density ∝ Σ dims / ∏ dims.
    case erk

    /// Per-layer densities whose weighted sum is `density` of all weights; layers whose
    /// share would pass 1 are made dense and the rest re-solved (as RigL does).
    public func densities(shapes: [[Int]], density: Double) -> [Double] {
        if self == .uniform { return shapes.map { _ in density } }
        let sizes = shapes.map { Double($0.reduce(1, *)) }
        let raw: [Double] = shapes.map { s in
            let dims = self == .er ? Array(s.prefix(2)) : s
            return Double(dims.reduce(0, +)) / Double(dims.reduce(1, *))
        }
        let total = sizes.reduce(0, +)
        var dense = Set<Int>()
        while true {
            let budget = density * total - dense.reduce(0) { $0 + sizes[$1] }
            let weight = sizes.indices.filter { !dense.contains($0) }.reduce(0) { $0 + raw[$1] * sizes[$1] }
            let eps = weight > 0 ? budget / weight : 0
            let over = sizes.indices.filter { !dense.contains($0) && eps * raw[$0] > 1 }
            if over.isEmpty {
                return sizes.indices.map { dense.contains($0) ? 1 : Swift.max(0, eps * raw[$0]) }
            }
            dense.formUnion(over)
        }
    }
}

import Foundation
import LopperCore

/// The minimum volume enclosing (Löwner) ellipsoid of a centrally symmetric set {±pⱼ},
/// by Khachiyan's algorithm: weights u on the points, G = Σ uⱼ pⱼpⱼᵀ, and the ellipsoid
/// {x : xᵀ G⁻¹ x ≤ d}. Each step moves weight to the point farthest outside,
/// Mⱼ = pⱼᵀG⁻¹pⱼ, until max Mⱼ ≤ d(1 + tolerance); G⁻¹ and every Mⱼ follow each rank-one
/// step by Sherman–Morrison, so a step costs O(d² + nd).
public enum MVEE {
    public struct Result {
        /// The weight of each point (they sum to 1).
        public let weights: [Double]
        /// Mⱼ = pⱼᵀ G⁻¹ pⱼ: Σ uⱼ Mⱼ = d, and every Mⱼ ≤ d(1 + tolerance) at convergence.
        public let leverages: [Double]
        /// G = Σ uⱼ pⱼpⱼᵀ, d × d row-major.
        public let shape: [Double]
        public let dimension: Int
        public let iterations: Int
        public let converged: Bool
    }

    /// `points`: n rows of dimension d (row-major). A set that does not span its space is
    /// regularised by `ridge`·tr(G)/d on G's diagonal (its points then all lie on the
    /// ellipsoid, as they do on the exact one).
    public static func khachiyan(_ points: [Double], count n: Int, dimension d: Int, tolerance: Double = 1e-3,
                                 maxIterations: Int = 100_000, ridge: Double = 1e-9) throws -> Result {
        guard n >= 1, d >= 1, points.count == n * d else {
            throw TensorError("mvee: expected \(n) points of dimension \(d), got \(points.count) numbers")
        }
        guard tolerance > 0 else { throw TensorError("mvee: tolerance must be positive, got \(tolerance)") }
        var u = [Double](repeating: 1 / Double(n), count: n)
        var g = [Double](repeating: 0, count: d * d)
        for j in 0..<n {
            let p = j * d
            for a in 0..<d where points[p + a] != 0 {
                let s = u[j] * points[p + a]
                for b in 0..<d { g[a * d + b] += s * points[p + b] }
            }
        }
        let trace = (0..<d).reduce(0) { $0 + g[$1 * d + $1] }
        guard trace > 0, trace.isFinite else { throw TensorError("mvee: the points are all zero (or not finite)") }
        for a in 0..<d { g[a * d + a] += ridge * trace / Double(d) }
        var inverse = try invert(g, d)
        func quad(_ j: Int, _ m: [Double]) -> Double {
            var s = 0.0
            let p = j * d
            for a in 0..<d where points[p + a] != 0 {
                var r = 0.0
                for b in 0..<d { r += m[a * d + b] * points[p + b] }
                s += points[p + a] * r
            }
            return s
        }
        var lev = (0..<n).map { quad($0, inverse) }
        var iterations = 0, converged = false
        var v = [Double](repeating: 0, count: d)
        let dd = Double(d)
        while iterations < maxIterations {
            let (far, mFar) = lev.enumerated().max { $0.element < $1.element }!
            if mFar <= dd * (1 + tolerance) { converged = true; break }
            iterations += 1
            // Toward the farthest point, or (Todd & Yıldırım's away step) weight off the
            // nearest point that has some, whichever gains more: interior points lose their
            // weight in a few steps instead of geometrically.
            var (j, m) = (far, mFar)
            var beta = (m - dd) / (dd * (m - 1))
            if let (near, mNear) = lev.enumerated().filter({ u[$0.offset] > 0 }).min(by: { $0.element < $1.element }),
               dd - mNear > mFar - dd, u[near] < 1 {
                (j, m) = (near, mNear)
                // The exact line search's β* = (m − d)/(d(m − 1)) when m > 1; below, all the way.
                let limit = -u[near] / (1 - u[near])
                beta = m > 1 ? max((m - dd) / (dd * (m - 1)), limit) : limit
            }
            for k in 0..<n { u[k] *= 1 - beta }
            u[j] = max(0, u[j] + beta)
            // G' = (1 − β)G + β ppᵀ: G'⁻¹ = (G⁻¹ − c·vvᵀ)/(1 − β), v = G⁻¹p, c = β/(1 − β + βm).
            let p = j * d
            for a in 0..<d {
                var r = 0.0
                for b in 0..<d { r += inverse[a * d + b] * points[p + b] }
                v[a] = r
            }
            let c = beta / (1 - beta + beta * m)
            for a in 0..<d { for b in 0..<d { inverse[a * d + b] = (inverse[a * d + b] - c * v[a] * v[b]) / (1 - beta) } }
            for k in 0..<n {
                var s = 0.0
                let q = k * d
                for a in 0..<d { s += points[q + a] * v[a] }
                lev[k] = (lev[k] - c * s * s) / (1 - beta)
            }
        }
        g = [Double](repeating: 0, count: d * d)
        for j in 0..<n where u[j] > 0 {
            let p = j * d
            for a in 0..<d where points[p + a] != 0 { for b in 0..<d { g[a * d + b] += u[j] * points[p + a] * points[p + b] } }
        }
        return Result(weights: u, leverages: lev, shape: g, dimension: d, iterations: iterations, converged: converged)
    }

    /// The inverse of a symmetric positive definite d × d matrix (Gauss–Jordan with pivoting).
    static func invert(_ m: [Double], _ d: Int) throws -> [Double] {
        var a = m, inv = [Double](repeating: 0, count: d * d)
        for i in 0..<d { inv[i * d + i] = 1 }
        for col in 0..<d {
            var pivot = col
            for r in (col + 1)..<d where abs(a[r * d + col]) > abs(a[pivot * d + col]) { pivot = r }
            guard abs(a[pivot * d + col]) > 1e-300 else { throw TensorError("mvee: the points' shape matrix is singular") }
            if pivot != col {
                for k in 0..<d { a.swapAt(col * d + k, pivot * d + k); inv.swapAt(col * d + k, pivot * d + k) }
            }
            let s = 1 / a[col * d + col]
            for k in 0..<d { a[col * d + k] *= s; inv[col * d + k] *= s }
            for r in 0..<d where r != col && a[r * d + col] != 0 {
                let f = a[r * d + col]
                for k in 0..<d { a[r * d + k] -= f * a[col * d + k]; inv[r * d + k] -= f * inv[col * d + k] }
            }
        }
        return inv
    }
}

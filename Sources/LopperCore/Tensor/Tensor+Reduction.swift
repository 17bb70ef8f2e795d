import Foundation

/// Reductions over all elements (a 0-d result) or along one dimension. Sums accumulate in
/// double precision, so large tensors reduce accurately.
extension Tensor {
    /// Splits a contiguous layout around `dim` into (outer, n, inner) and the result shape.
    private func reductionLayout(_ dim: Int?, keepdim: Bool, op: String) throws -> (outer: Int, n: Int, inner: Int, shape: [Int]) {
        guard let dim else {
            return (1, count, 1, keepdim ? [Int](repeating: 1, count: rank) : [])
        }
        let d = try Shape.normalize(dim: dim, rank: rank, op: op)
        if rank == 0 { return (1, 1, 1, []) }
        var s = shape
        if keepdim { s[d] = 1 } else { s.remove(at: d) }
        return (Shape.count(Array(shape[..<d])), shape[d], Shape.count(Array(shape[(d + 1)...])), s)
    }

    /// A reduction with a double accumulator: `combine` folds each element in, `finish`
    /// turns the accumulator and the number of elements folded into the result.
    @inline(__always)
    func reduce(dim: Int?, keepdim: Bool, op: String, initial: Double,
                _ combine: (Double, Float) -> Double, finish: (Double, Int) -> Float) throws -> Tensor {
        let (outer, n, inner, outShape) = try reductionLayout(dim, keepdim: keepdim, op: op)
        let x = try contiguous(), p = x.data
        let out = try Tensor(uninitializedShape: outShape)
        let o = out.data
        if x.count == 0 {
            // Nothing to fold: each result is the empty reduction (no loop over the
            // reduced dimension, which may be huge beside a size-0 one).
            for i in 0..<out.count { o[i] = finish(initial, n) }
            return out
        }
        if inner == 1 {
            for i in 0..<outer {
                var acc = initial
                let row = p + i * n
                for k in 0..<n { acc = combine(acc, row[k]) }
                o[i] = finish(acc, n)
            }
            return out
        }
        var acc = [Double](repeating: initial, count: inner)
        for i in 0..<outer {
            for j in 0..<inner { acc[j] = initial }
            for k in 0..<n {
                let row = p + (i * n + k) * inner
                for j in 0..<inner { acc[j] = combine(acc[j], row[j]) }
            }
            for j in 0..<inner { o[i * inner + j] = finish(acc[j], n) }
        }
        return out
    }

    /// A reduced gradient broadcast back over the input's shape.
    func unreduce(_ g: Tensor, to shape: [Int], dim: Int?, keepdim: Bool) throws -> Tensor {
        guard let dim else { return try g.reshape([Int](repeating: 1, count: shape.count)).expand(shape) }
        if shape.isEmpty { return g }
        let d = try Shape.normalize(dim: dim, rank: shape.count, op: "sum")
        return try (keepdim ? g : g.unsqueeze(d)).expand(shape)
    }

    public func sum(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try reduce(dim: dim, keepdim: keepdim, op: "sum", initial: 0, { $0 + Double($1) }, finish: { a, _ in Float(a) })
            .recorded("sum", [self]) { [x = self] g in [try x.unreduce(g, to: x.shape, dim: dim, keepdim: keepdim)] }
    }

    public func mean(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        guard count > 0 else { throw TensorError("mean: tensor of shape \(describeShape(shape)) is empty") }
        let n = dim == nil || rank == 0 ? count : shape[try Shape.normalize(dim: dim!, rank: rank, op: "mean")]
        return try reduce(dim: dim, keepdim: keepdim, op: "mean", initial: 0, { $0 + Double($1) },
                          finish: { a, n in Float(a / Double(n)) })
            .recorded("mean", [self]) { [x = self] g in [try x.unreduce(g.div(Float(n)), to: x.shape, dim: dim, keepdim: keepdim)] }
    }

    public func max(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try requireNonEmpty("max")
        return try reduce(dim: dim, keepdim: keepdim, op: "max", initial: -.infinity,
                          { Swift.max($0, Double($1)) }, finish: { a, _ in Float(a) })
            .recordedExtremum("max", of: self, dim: dim, keepdim: keepdim)
    }

    public func min(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try requireNonEmpty("min")
        return try reduce(dim: dim, keepdim: keepdim, op: "min", initial: .infinity,
                          { Swift.min($0, Double($1)) }, finish: { a, _ in Float(a) })
            .recordedExtremum("min", of: self, dim: dim, keepdim: keepdim)
    }

    /// Records a max/min: the gradient goes to the elements equal to the extremum, shared
    /// evenly among ties.
    func recordedExtremum(_ name: String, of x: Tensor, dim: Int?, keepdim: Bool) -> Tensor {
        recorded(name, [x]) { [y = detach()] g in
            let hit = try x.eq(x.unreduce(y, to: x.shape, dim: dim, keepdim: keepdim))
            let ties = try x.unreduce(hit.sum(dim: dim, keepdim: keepdim), to: x.shape, dim: dim, keepdim: keepdim)
            return [try x.unreduce(g, to: x.shape, dim: dim, keepdim: keepdim).mul(hit).div(ties)]
        }
    }

    public func countNonzero(dim: Int? = nil) throws -> Tensor {
        try reduce(dim: dim, keepdim: false, op: "count_nonzero", initial: 0,
                   { $0 + ($1 != 0 ? 1 : 0) }, finish: { a, _ in Float(a) })
    }

    /// p-norm for p = 1, 2, ∞ or any positive p.
    public func norm(p: Double = 2, dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        let n = try rawNorm(p: p, dim: dim, keepdim: keepdim)
        return n.recorded("norm", [self]) { [x = self, y = n.detach()] g in
            let gx = try x.unreduce(g, to: x.shape, dim: dim, keepdim: keepdim)
            let nx = try x.unreduce(reuse(y) { try x.norm(p: p, dim: dim, keepdim: keepdim) }, to: x.shape, dim: dim, keepdim: keepdim)
            switch p {
            case 1: return [try gx.mul(x.sign())]
            case .infinity: return [try gx.mul(x.sign()).mul(x.abs().eq(nx))]
            default:
                // d‖x‖ₚ/dx = sign(x)·|x|^(p-1) / ‖x‖ₚ^(p-1), and 0 where the norm is 0.
                let safe = try nx.add(nx.eq(0))
                return [try gx.mul(x.sign()).mul(x.abs().pow(Float(p - 1))).div(safe.pow(Float(p - 1)))]
            }
        }
    }

    private func rawNorm(p: Double, dim: Int?, keepdim: Bool) throws -> Tensor {
        switch p {
        case 1:
            return try reduce(dim: dim, keepdim: keepdim, op: "norm", initial: 0, { $0 + Double(Swift.abs($1)) }, finish: { a, _ in Float(a) })
        case 2:
            return try reduce(dim: dim, keepdim: keepdim, op: "norm", initial: 0, { $0 + Double($1) * Double($1) }, finish: { a, _ in Float(a.squareRoot()) })
        case .infinity:
            return try reduce(dim: dim, keepdim: keepdim, op: "norm", initial: 0, { Swift.max($0, Double(Swift.abs($1))) }, finish: { a, _ in Float(a) })
        case let p where p > 0 && p.isFinite:
            return try reduce(dim: dim, keepdim: keepdim, op: "norm", initial: 0, { $0 + Foundation.pow(Double(Swift.abs($1)), p) },
                              finish: { a, _ in Float(Foundation.pow(a, 1 / p)) })
        default:
            throw TensorError("norm: p must be positive (1, 2, math.huge or another number), got \(p)")
        }
    }

    /// Variance; `unbiased` divides by n-1 (the default, as in PyTorch), else by n.
    public func variance(dim: Int? = nil, unbiased: Bool = true, keepdim: Bool = false) throws -> Tensor {
        let n = dim == nil ? count : (rank == 0 ? 1 : shape[try Shape.normalize(dim: dim!, rank: rank, op: "var")])
        let correction = unbiased ? 1 : 0
        guard n - correction > 0 else {
            throw TensorError("var: needs at least \(correction + 1) elements along the reduced dimension, got \(n)")
        }
        let m = try mean(dim: dim, keepdim: true)
        let d = try sub(m)
        if d.requiresGrad {
            // Composed of recorded ops, so it differentiates (twice, too).
            return try d.mul(d).sum(dim: dim, keepdim: keepdim).div(Float(n - correction))
        }
        return try d.reduce(dim: dim, keepdim: keepdim, op: "var", initial: 0, { $0 + Double($1) * Double($1) }, finish: { a, _ in
            Float(a / Double(n - correction))
        })
    }

    public func std(dim: Int? = nil, unbiased: Bool = true, keepdim: Bool = false) throws -> Tensor {
        try variance(dim: dim, unbiased: unbiased, keepdim: keepdim).sqrt()
    }

    private func requireNonEmpty(_ op: String) throws {
        guard count > 0 else { throw TensorError("\(op): tensor of shape \(describeShape(shape)) is empty") }
    }

    /// Largest (or smallest) values and their 0-based indices along `dim`, or over all
    /// elements (flat index) when `dim` is nil. Ties go to the first index.
    public func extremum(largest: Bool, dim: Int?, keepdim: Bool = false, op: String) throws -> (values: Tensor, indices: Tensor) {
        try requireNonEmpty(op)
        let (outer, n, inner, outShape) = try reductionLayout(dim, keepdim: keepdim, op: op)
        let x = try contiguous(), p = x.data
        let values = try Tensor(shape: outShape), indices = try Tensor(shape: outShape)
        for i in 0..<outer {
            for j in 0..<inner {
                var best = p[i * n * inner + j], at = 0
                for k in 1..<Swift.max(n, 1) {
                    let v = p[(i * n + k) * inner + j]
                    if largest ? v > best : v < best { best = v; at = k }
                }
                values.data[i * inner + j] = best
                indices.data[i * inner + j] = Float(at)
            }
        }
        return (values.recordedExtremum(largest ? "max" : "min", of: self, dim: dim, keepdim: keepdim), indices)
    }

    public func argmax(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try extremum(largest: true, dim: dim, keepdim: keepdim, op: "argmax").indices
    }

    public func argmin(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try extremum(largest: false, dim: dim, keepdim: keepdim, op: "argmin").indices
    }
}

/// Order statistics: sort, top-k, k-th value and quantiles. Pruning thresholds need these
/// on millions of elements, so k-th value and quantile use selection (linear time), not a
/// full sort. NaN sorts after every number. Values differentiate: the gradient goes back
/// to the positions they came from (`gather` and `scatter` along a dimension, each the
/// other's adjoint, so they differentiate twice).
extension Tensor {
    /// out[i, t, j] = self[i, index[i, t, j], j] along `dim` (0-based indices, as floats).
    public func gather(dim: Int, index: Tensor) throws -> Tensor {
        let (outer, n, inner, d) = try slices(dim: dim, op: "gather")
        guard index.rank == rank, rank == 0 || (0..<rank).allSatisfy({ $0 == d || index.shape[$0] == shape[$0] }) else {
            throw TensorError("gather: index \(describeShape(index.shape)) does not match \(describeShape(shape)) outside dimension \(d)")
        }
        let k = rank == 0 ? 1 : index.shape[d]
        let x = try contiguous(), idx = try index.contiguous(), out = try Tensor(shape: index.shape)
        for i in 0..<outer { for t in 0..<k { for j in 0..<inner {
            let at = (i * k + t) * inner + j
            let src = Int(idx.data[at])
            guard src >= 0 && src < n else { throw TensorError("gather: index \(src) is out of range for a dimension of size \(n)") }
            out.data[at] = x.data[(i * n + src) * inner + j]
        } } }
        return out.recorded("gather", [self]) { g in [try g.scatter(dim: d, index: index, size: n)] }
    }

    /// The adjoint of `gather`: a zero tensor with `size` along `dim` where each value of
    /// this tensor is added at its index.
    public func scatter(dim: Int, index: Tensor, size: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "scatter")
        guard index.shape == shape else {
            throw TensorError("scatter: index \(describeShape(index.shape)) and values \(describeShape(shape)) differ")
        }
        var outShape = shape
        if rank > 0 { outShape[d] = size }
        let out = try Tensor(shape: outShape)
        let (outer, k, inner, _) = try slices(dim: d, op: "scatter")
        let v = try contiguous(), idx = try index.contiguous()
        for i in 0..<outer { for t in 0..<k { for j in 0..<inner {
            let at = (i * k + t) * inner + j
            let dst = Int(idx.data[at])
            guard dst >= 0 && dst < size else { throw TensorError("scatter: index \(dst) is out of range for a dimension of size \(size)") }
            out.data[(i * size + dst) * inner + j] += v.data[at]
        } } }
        return out.recorded("scatter", [self]) { g in [try g.gather(dim: d, index: index)] }
    }

    @inline(__always)
    public static func less(_ a: Float, _ b: Float) -> Bool { a < b || (!a.isNaN && b.isNaN) }

    /// Rearranges `a` so that a[k] is the element a full sort would put there, smaller or
    /// equal elements before it and greater or equal after it (Hoare's selection with a
    /// median-of-three pivot, falling back to a sort of short ranges).
    public static func select<T>(_ a: UnsafeMutablePointer<T>, count: Int, k: Int, by less: (T, T) -> Bool) {
        var lo = 0, hi = count - 1
        while hi - lo > 16 {
            let mid = lo + (hi - lo) / 2
            if less(a[mid], a[lo]) { swap(&a[mid], &a[lo]) }
            if less(a[hi], a[lo]) { swap(&a[hi], &a[lo]) }
            if less(a[hi], a[mid]) { swap(&a[hi], &a[mid]) }
            let pivot = a[mid]
            var i = lo, j = hi
            while i <= j {
                while less(a[i], pivot) { i += 1 }
                while less(pivot, a[j]) { j -= 1 }
                if i <= j { swap(&a[i], &a[j]); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
        // Insertion sort of the short remainder.
        if hi > lo {
            for i in (lo + 1)...hi {
                let v = a[i]
                var j = i - 1
                while j >= lo && less(v, a[j]) { a[j + 1] = a[j]; j -= 1 }
                a[j + 1] = v
            }
        }
    }

    /// Runs `body` on each 1-d slice along `dim` (copied out as values), writing into
    /// outputs of `outShape` laid out (outer, m, inner).
    private func slices(dim: Int, op: String) throws -> (outer: Int, n: Int, inner: Int, d: Int) {
        let d = try Shape.normalize(dim: dim, rank: rank, op: op)
        if rank == 0 { return (1, 1, 1, 0) }
        return (Shape.count(Array(shape[..<d])), shape[d], Shape.count(Array(shape[(d + 1)...])), d)
    }

    /// Sorted values and their 0-based indices along `dim` (stable: ties keep their order).
    public func sort(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try topk(rank == 0 ? 1 : shape[try Shape.normalize(dim: dim, rank: rank, op: "sort")], dim: dim, largest: descending, op: "sort")
    }

    /// The k largest (or smallest) values along `dim`, in order, with 0-based indices.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, op: String = "topk") throws -> (values: Tensor, indices: Tensor) {
        let (outer, n, inner, d) = try slices(dim: dim, op: op)
        guard k >= 0 && k <= n else {
            throw TensorError("\(op): k = \(k) is out of range for a dimension of size \(n)")
        }
        guard n <= 1 << 24 else {
            throw TensorError("\(op): a dimension of \(n) elements is too long: its indices would pass 2^24, past which float32 does not hold every integer")
        }
        var outShape = shape
        if rank > 0 { outShape[d] = k }
        let values = try Tensor(shape: outShape), indices = try Tensor(shape: outShape)
        let x = try contiguous(), p = x.data
        let pairs = UnsafeMutablePointer<(Float, Int32)>.allocate(capacity: Swift.max(n, 1))
        defer { pairs.deallocate() }
        let before: ((Float, Int32), (Float, Int32)) -> Bool = largest
            ? { Tensor.less($1.0, $0.0) || (!Tensor.less($0.0, $1.0) && $0.1 < $1.1) }
            : { Tensor.less($0.0, $1.0) || (!Tensor.less($1.0, $0.0) && $0.1 < $1.1) }
        for i in 0..<outer {
            for j in 0..<inner {
                for t in 0..<n { pairs[t] = (p[(i * n + t) * inner + j], Int32(t)) }
                if k < n && k > 0 { Tensor.select(pairs, count: n, k: k - 1, by: before) }
                if k > 1 {
                    var head = UnsafeMutableBufferPointer(start: pairs, count: k)
                    head.sort(by: before)
                }
                for t in 0..<k {
                    values.data[(i * k + t) * inner + j] = pairs[t].0
                    indices.data[(i * k + t) * inner + j] = Float(pairs[t].1)
                }
            }
        }
        return (values.recorded(op, [self]) { g in [try g.scatter(dim: d, index: indices, size: n)] }, indices)
    }

    /// The k-th smallest value (k from 1) along `dim`, or over all elements when `dim` is
    /// nil, with its 0-based index (flat index over all elements).
    public func kthvalue(_ k: Int, dim: Int? = nil, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        guard let dim else {
            guard k >= 1 && k <= count else {
                throw TensorError("kthvalue: k = \(k) is out of range for \(count) elements")
            }
            let buffer = try unrecordedClone()
            Tensor.select(buffer.data, count: count, k: k - 1, by: Tensor.less)
            let v = buffer.data[k - 1]
            let flat = try contiguous()
            var at = 0
            while at < count && !(flat.data[at] == v || (v.isNaN && flat.data[at].isNaN)) { at += 1 }
            let index = Tensor(scalar: Float(at))
            return (Tensor(scalar: v).recorded("kthvalue", [self]) { [shape] g in
                [try g.view([1]).scatter(dim: 0, index: index.view([1]), size: shape.reduce(1, *)).view(shape)]
            }, index)
        }
        let (_, n, _, d) = try slices(dim: dim, op: "kthvalue")
        guard k >= 1 && k <= n else {
            throw TensorError("kthvalue: k = \(k) is out of range for a dimension of size \(n)")
        }
        let (v, i) = try topk(k, dim: dim, largest: false, op: "kthvalue")
        let vs = try v.narrow(d, k - 1, 1), idx = try i.narrow(d, k - 1, 1)
        return keepdim ? (try vs.clone(), try idx.clone()) : (try vs.squeeze(d).clone(), try idx.squeeze(d).clone())
    }

    /// The q-quantile (0 ≤ q ≤ 1) of all elements, interpolating linearly between order
    /// statistics as NumPy and PyTorch do by default.
    public func quantile(_ q: Double) throws -> Float {
        guard q >= 0 && q <= 1 else { throw TensorError("quantile: q must be in [0, 1], got \(q)") }
        guard count > 0 else { throw TensorError("quantile: tensor of shape \(describeShape(shape)) is empty") }
        let buffer = try unrecordedClone(), a = buffer.data
        let pos = q * Double(count - 1)
        let lo = Int(pos.rounded(.down))
        Tensor.select(a, count: count, k: lo, by: Tensor.less)
        let vlo = a[lo]
        guard lo + 1 < count, pos > Double(lo) else { return vlo }
        var vhi = a[lo + 1]
        for i in (lo + 1)..<count where Tensor.less(a[i], vhi) { vhi = a[i] }
        return vlo + Float(pos - Double(lo)) * (vhi - vlo)
    }
}

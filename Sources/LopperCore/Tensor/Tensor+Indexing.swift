/// Reading and writing at index lists: what mask editing needs (drop and grow, RigL, SET).
/// Indices are 0-based here and held as floats in index tensors, as `gather` holds them;
/// a float32 is exact up to 2^24, so index tensors refuse to name a position past it.
extension Tensor {
    /// The largest index a float32 index tensor holds exactly.
    public static let exactIndexLimit = 1 << 24

    /// Row-major positions of the nonzero elements, in order.
    public func nonzeroPositions() throws -> [Int] {
        let x = try contiguous()
        var out: [Int] = []
        for i in 0..<count where x.data[i] != 0 { out.append(i) }
        return out
    }

    /// The coordinates of the nonzero elements, `[K, rank]` (0-based), in row-major order.
    public func nonzero() throws -> Tensor {
        guard shape.allSatisfy({ $0 <= Tensor.exactIndexLimit }) else {
            throw TensorError("nonzero: a dimension of \(describeShape(shape)) is past 2^24, where float indices are not exact")
        }
        let positions = try nonzeroPositions()
        let out = try Tensor(shape: [positions.count, rank])
        let strides = Shape.contiguousStrides(shape)
        for (k, p) in positions.enumerated() {
            var rest = p
            for d in 0..<rank {
                out.data[k * rank + d] = Float(rest / strides[d])
                rest %= strides[d]
            }
        }
        return out
    }

    /// Row-major positions named by `index`: `[K]` positions in the flattened tensor, or
    /// `[K, rank]` coordinates. `base` is what the first index is called (1 from Lua).
    public func positions(from index: Tensor, base: Int = 0, op: String) throws -> [Int] {
        let idx = try index.contiguous()
        let flat: Bool
        if idx.rank == 1 { flat = true }
        else if idx.rank == 2 && idx.shape[1] == rank { flat = false }
        else {
            throw TensorError("\(op): expected indices [K] into the flattened tensor or coordinates [K, \(rank)], got \(describeShape(idx.shape))")
        }
        func integer(_ v: Float, below n: Int) throws -> Int {
            guard v.isFinite, v == v.rounded(), Swift.abs(v) < 0x1p30 else { throw TensorError("\(op): index \(v) is not a whole number") }
            let i = Int(v) - base
            guard i >= 0 && i < n else { throw TensorError("\(op): index \(Int(v)) is outside \(base)…\(n - 1 + base)") }
            return i
        }
        if flat { return try (0..<idx.count).map { try integer(idx.data[$0], below: count) } }
        let strides = Shape.contiguousStrides(shape)
        return try (0..<idx.shape[0]).map { k in
            var p = 0
            for d in 0..<rank { p += try integer(idx.data[k * rank + d], below: shape[d]) * strides[d] }
            return p
        }
    }

    /// The storage offset of row-major position `p` of this view.
    @inline(__always)
    func elementOffset(_ p: Int) -> Int {
        if isContiguous { return p }
        var rest = p, at = 0
        for d in stride(from: rank - 1, through: 0, by: -1) {
            at += (rest % shape[d]) * strides[d]
            rest /= shape[d]
        }
        return at
    }

    /// Writes `values` (one per position, or a single value for all) at row-major
    /// `positions`; with `accumulate`, adds instead. Later writes to a position win.
    public func put_(_ positions: [Int], values: Tensor, accumulate: Bool = false, op: String = "index_put_") throws {
        let v = try values.contiguous()
        guard v.count == positions.count || v.count == 1 else {
            throw TensorError("\(op): \(positions.count) positions but \(v.count) values (give one value, or one a position)")
        }
        for (k, p) in positions.enumerated() {
            guard p >= 0 && p < count else { throw TensorError("\(op): position \(p) is outside a tensor of \(count) elements") }
            let value = v.data[v.count == 1 ? 0 : k]
            let at = data + elementOffset(p)
            at.pointee = accumulate ? at.pointee + value : value
        }
    }

    /// self[…, index[i, t, j], …] = source[i, t, j] along `dim` (torch.scatter_): `index`
    /// has this tensor's rank and no larger sizes; `source` has index's shape, or one value.
    public func scatter_(dim: Int, index: Tensor, source: Tensor, base: Int = 0) throws {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "scatter_")
        guard index.rank == rank, (0..<rank).allSatisfy({ index.shape[$0] <= shape[$0] || $0 == d }) else {
            throw TensorError("scatter_: index \(describeShape(index.shape)) must have the rank of \(describeShape(shape)) and no larger sizes outside dimension \(d + 1)")
        }
        guard source.count == 1 || source.shape == index.shape else {
            throw TensorError("scatter_: source \(describeShape(source.shape)) must have the index's shape \(describeShape(index.shape)) or be one value")
        }
        let idx = try index.contiguous(), src = try source.contiguous()
        var coordinate = [Int](repeating: 0, count: rank)
        for k in 0..<idx.count {
            let v = idx.data[k]
            guard v.isFinite, v == v.rounded(), Swift.abs(v) < 0x1p30 else { throw TensorError("scatter_: index \(v) is not a whole number") }
            let target = Int(v) - base
            guard target >= 0 && target < shape[d] else {
                throw TensorError("scatter_: index \(Int(v)) is outside \(base)…\(shape[d] - 1 + base) along dimension \(d + 1)")
            }
            var at = 0
            for e in 0..<rank { at += (e == d ? target : coordinate[e]) * strides[e] }
            data[at] = src.data[src.count == 1 ? 0 : k]
            // Next coordinate of the index, row-major.
            var e = rank - 1
            while e >= 0 {
                coordinate[e] += 1
                if coordinate[e] < idx.shape[e] { break }
                coordinate[e] = 0
                e -= 1
            }
        }
    }

    /// Sets every element whose coordinate along `dim` is in `indices` to `value`.
    public func indexFill_(dim: Int, indices: [Int], value: Float) throws {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "index_fill_")
        let n = rank == 0 ? 1 : shape[d]
        for i in indices where i < 0 || i >= n {
            throw TensorError("index_fill_: index \(i) is outside a dimension of size \(n)")
        }
        let chosen = Set(indices)
        let inner = rank == 0 ? 1 : Shape.count(Array(shape[(d + 1)...]))
        for p in 0..<count where chosen.contains((p / inner) % n) { data[elementOffset(p)] = value }
    }

    /// The elements where `mask` is nonzero, in row-major order, as a 1-d tensor; the
    /// gradient goes back to those positions.
    public func maskedSelect(_ mask: Tensor) throws -> Tensor {
        guard mask.shape == shape else {
            throw TensorError("masked_select: mask \(describeShape(mask.shape)) does not match \(describeShape(shape))")
        }
        return try taking(try mask.nonzeroPositions())
    }

    /// The elements at row-major `positions`, as a 1-d tensor (recorded: the backward puts
    /// the gradient back, itself recorded, so it differentiates twice).
    func taking(_ positions: [Int]) throws -> Tensor {
        let x = try contiguous(), out = try Tensor(shape: [positions.count])
        for (k, p) in positions.enumerated() { out.data[k] = x.data[p] }
        let full = shape
        return out.recorded("masked_select", [self]) { g in [try g.placing(positions, shape: full)] }
    }

    /// A zero tensor of `shape` with this 1-d tensor's values at `positions`.
    func placing(_ positions: [Int], shape full: [Int]) throws -> Tensor {
        let out = try Tensor(shape: full)
        try out.put_(positions, values: self, accumulate: true)
        return out.recorded("masked_scatter", [self]) { g in [try g.taking(positions)] }
    }
}

/// Shape arithmetic shared by every operation: element counts, strides, broadcasting and
/// the normalisation of dimension arguments.
public enum Shape {
    /// Number of elements of a shape (1 for a 0-d tensor). Only for shapes of tensors that
    /// exist: every new shape goes through `checkedCount` first.
    @inline(__always)
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The element count of a shape a caller asked for: sizes non-negative, and neither the
    /// count nor its byte size overflowing (release builds drop Swift's own checks).
    @discardableResult
    public static func checkedCount(_ shape: [Int], op: String) throws -> Int {
        do { return try elementCount(shape) } catch let e as AllocationError { throw TensorError("\(op): \(e.description)") }
    }

    /// `checkedCount` for callers whose error the binding names (a failed `Tensor(shape:)`
    /// deep inside a module constructor reads "Linear: …", not "tensor: …").
    static func elementCount(_ shape: [Int]) throws -> Int {
        guard shape.count <= maxRank else {
            throw AllocationError("a tensor has at most \(maxRank) dimensions, got \(shape.count)")
        }
        if let bad = shape.first(where: { $0 < 0 }) {
            throw AllocationError("sizes must be non-negative, got \(bad) in \(describeShape(shape))")
        }
        var n = 1, overflow = false
        for d in shape {
            // Each size is bounded even when another is 0: loops over one dimension of an
            // empty tensor would otherwise run 2^63 times.
            guard d <= maxElements else { overflow = true; break }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            overflow = overflow || o || p > maxElements
            n = overflow ? 0 : p
        }
        if overflow {
            throw AllocationError("shape \(describeShape(shape)) has more elements than any tensor can hold (at most 2^60)")
        }
        return n
    }

    /// Most elements of one tensor: their byte count (and an offset into them) fits an Int.
    public static let maxElements = 1 << 60
    /// Most dimensions of a tensor (PyTorch's limit too); also bounds the Lua stack that
    /// nested tables of a tensor need.
    public static let maxRank = 64

    /// Row-major strides of a contiguous tensor of this shape.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = acc
            acc *= shape[d]
        }
        return strides
    }

    /// NumPy broadcasting: align from the right; sizes must match or one of them be 1.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da }
            else if da == 1 { out[i] = db }
            else {
                throw TensorError("\(op): shapes \(describeShape(a)) and \(describeShape(b)) do not broadcast (dimension \(i + 1): \(da) vs \(db))")
            }
        }
        return out
    }

    /// Strides that read a tensor of `shape`/`strides` as if it had shape `target`
    /// (stride 0 along broadcast dimensions). `target` must be a broadcast of `shape`.
    public static func broadcastStrides(shape: [Int], strides: [Int], to target: [Int]) -> [Int] {
        var out = [Int](repeating: 0, count: target.count)
        let lead = target.count - shape.count
        for i in 0..<shape.count where shape[i] != 1 || target[lead + i] == 1 {
            out[lead + i] = shape[i] == 1 ? 0 : strides[i]
        }
        return out
    }

    /// A 0-based dimension from `dim` (negative counts from the end), checked against `rank`.
    public static func normalize(dim: Int, rank: Int, op: String) throws -> Int {
        let d = dim < 0 ? dim + rank : dim
        guard d >= 0 && d < max(rank, 1) else {
            throw TensorError("\(op): dimension \(dim) is out of range for a \(rank)-d tensor")
        }
        return d
    }
}

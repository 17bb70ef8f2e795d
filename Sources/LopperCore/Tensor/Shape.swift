/// Shape arithmetic shared by every operation: element counts, strides, broadcasting and
/// the normalisation of dimension arguments.
public enum Shape {
    /// Number of elements of a shape (1 for a 0-d tensor).
    @inline(__always)
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

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

/// Iteration over one or more tensors of a common shape, each with its own strides.
/// Adjacent dimensions that are contiguous for every operand are merged first, so the
/// body usually sees one long run; the body handles one run along the last dimension.
enum StridedLoop {
    /// Calls `body(offsets, n, innerStrides)` for each run; `offsets[k]` is the element
    /// offset of operand k at the start of the run.
    @inline(__always)
    static func run(shape: [Int], strides: [[Int]],
                    _ body: (UnsafeMutablePointer<Int>, Int, UnsafeMutablePointer<Int>) -> Void) {
        let k = strides.count
        if Shape.count(shape) == 0 { return }
        // Coalesce: drop size-1 dims, merge d into d+1 when contiguous for all operands.
        var dims: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: k)
        for d in 0..<shape.count where shape[d] != 1 {
            if !dims.isEmpty && (0..<k).allSatisfy({ strides[$0][d] * shape[d] == st[$0].last! }) {
                dims[dims.count - 1] *= shape[d]
                for j in 0..<k { st[j][st[j].count - 1] = strides[j][d] }
            } else {
                dims.append(shape[d])
                for j in 0..<k { st[j].append(strides[j][d]) }
            }
        }
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: k)
        let inner = UnsafeMutablePointer<Int>.allocate(capacity: k)
        defer { offsets.deallocate(); inner.deallocate() }
        for j in 0..<k { offsets[j] = 0 }
        if dims.isEmpty {
            for j in 0..<k { inner[j] = 0 }
            body(offsets, 1, inner)
            return
        }
        let last = dims.count - 1
        let n = dims[last]
        for j in 0..<k { inner[j] = st[j][last] }
        if last == 0 { body(offsets, n, inner); return }
        // Odometer over the outer dimensions.
        var counter = [Int](repeating: 0, count: last)
        while true {
            body(offsets, n, inner)
            var d = last - 1
            while d >= 0 {
                counter[d] += 1
                for j in 0..<k { offsets[j] += st[j][d] }
                if counter[d] < dims[d] { break }
                for j in 0..<k { offsets[j] -= st[j][d] * dims[d] }
                counter[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}

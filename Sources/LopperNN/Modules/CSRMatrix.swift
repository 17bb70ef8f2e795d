import LopperCore
import LopperKernels

/// A weight's nonzeros as compressed sparse rows: row r of the [rows, columns] view (a
/// Linear's weight, or a Conv2d's [O, C·kh·kw]) holds columns[rowStarts[r]..<rowStarts[r+1]].
/// Never changed once built, so copies share it. One sample at a time goes through a
/// second copy as sliced ELL (`SlicedELL`), which runs about twice as fast.
struct CSRMatrix {
    let rows: Int
    let rowStarts: [Int32], columns: [Int32], values: [Float]
    let sliced: SlicedELL

    init(_ weight: Tensor, layer: String) throws {
        let w = try weight.contiguous()
        guard w.count < Int(Int32.max) else { throw TensorError("\(layer): \(w.count) weights do not fit 32-bit indices") }
        rows = w.shape[0]
        let per = w.count / max(rows, 1)
        var starts: [Int32] = [0], cols: [Int32] = [], vals: [Float] = []
        for r in 0..<rows {
            for c in 0..<per where w.data[r * per + c] != 0 { cols.append(Int32(c)); vals.append(w.data[r * per + c]) }
            starts.append(Int32(vals.count))
        }
        (rowStarts, columns, values) = (starts, cols, vals)
        sliced = SlicedELL(rowStarts: starts, columns: cols, values: vals)
    }

    var nonzeros: Int { values.count }

    /// y [rows, n] = bias + A · x [columns, n], rows split over the workers when the work is large.
    func multiply(_ x: UnsafePointer<Float>, _ n: Int, into y: UnsafeMutablePointer<Float>, bias: Tensor?) {
        if n == 1 { return sliced.multiply(x, into: y, bias: bias?.data) }
        rowStarts.withUnsafeBufferPointer { rp in columns.withUnsafeBufferPointer { cp in values.withUnsafeBufferPointer { vp in
            let run = { (r: Range<Int>) in
                lk_csr_matmul(rp.baseAddress!, cp.baseAddress, vp.baseAddress, bias?.data, x, n, y, r.lowerBound, r.upperBound)
            }
            if values.count * n < 1 << 16 { run(0..<rows) } else { Parallel.forEachChunk(rows) { _, r in run(r) } }
        } } }
    }
}

/// The rows of a CSR matrix sorted by length (longest first) and cut into slices of eight,
/// each slice's entries stored column by column (entry k of its eight rows side by side),
/// short rows padded with zeros: eight rows advance in one vector with no per-row tail.
struct SlicedELL {
    let rows: Int
    let starts: [Int32], lengths: [Int32], permutation: [Int32]
    let columns: [Int32], values: [Float]

    init(rowStarts: [Int32], columns csrColumns: [Int32], values csrValues: [Float]) {
        rows = rowStarts.count - 1
        let length = { (r: Int) in Int(rowStarts[r + 1] - rowStarts[r]) }
        // Sorted, the rows of a slice are about as long: little padding (2% on LeNet's fc1 at 5%).
        let order = (0..<rows).sorted { length($0) > length($1) || (length($0) == length($1) && $0 < $1) }
        var starts: [Int32] = [], lengths: [Int32] = [], cols: [Int32] = [], vals: [Float] = []
        for s in stride(from: 0, to: rows, by: 8) {
            let members = order[s..<min(s + 8, rows)]
            let width = members.map(length).max() ?? 0
            starts.append(Int32(cols.count))
            lengths.append(Int32(width))
            for k in 0..<width {
                for i in 0..<8 {
                    let r = i < members.count ? members[members.startIndex + i] : -1
                    let has = r >= 0 && k < length(r)
                    cols.append(has ? csrColumns[Int(rowStarts[r]) + k] : 0)
                    vals.append(has ? csrValues[Int(rowStarts[r]) + k] : 0)
                }
            }
        }
        (self.starts, self.lengths, permutation, columns, values) = (starts, lengths, order.map { Int32($0) }, cols, vals)
    }

    /// y [rows] = bias + A · x [columns].
    func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?) {
        starts.withUnsafeBufferPointer { sp in lengths.withUnsafeBufferPointer { lp in permutation.withUnsafeBufferPointer { pp in
            columns.withUnsafeBufferPointer { cp in values.withUnsafeBufferPointer { vp in
                lk_sell8_matvec(sp.baseAddress, lp.baseAddress, cp.baseAddress, vp.baseAddress, pp.baseAddress, bias, x, y,
                                starts.count, rows)
            } }
        } } }
    }
}

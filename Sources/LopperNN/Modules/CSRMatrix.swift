import LopperCore
import LopperKernels

/// A weight's nonzeros as compressed sparse rows: row r of the [rows, columns] view (a
/// Linear's weight, or a Conv2d's [O, C·kh·kw]) holds columns[rowStarts[r]..<rowStarts[r+1]].
/// Never changed once built, so copies share it.
struct CSRMatrix {
    let rows: Int
    let rowStarts: [Int32], columns: [Int32], values: [Float]

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
    }

    var nonzeros: Int { values.count }

    /// y [rows, n] = bias + A · x [columns, n], rows split over the workers when the work is large.
    func multiply(_ x: UnsafePointer<Float>, _ n: Int, into y: UnsafeMutablePointer<Float>, bias: Tensor?) {
        rowStarts.withUnsafeBufferPointer { rp in columns.withUnsafeBufferPointer { cp in values.withUnsafeBufferPointer { vp in
            let run = { (r: Range<Int>) in
                lk_csr_matmul(rp.baseAddress!, cp.baseAddress, vp.baseAddress, bias?.data, x, n, y, r.lowerBound, r.upperBound)
            }
            if values.count * n < 1 << 16 { run(0..<rows) } else { Parallel.forEachChunk(rows) { _, r in run(r) } }
        } } }
    }
}

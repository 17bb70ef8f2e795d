import LopperCore
import LopperKernels

/// A Linear layer whose weight is stored as compressed sparse rows (only the nonzeros):
/// an inference-only form of a pruned layer (`lp.compact{sparse = true}`). It computes what
/// the dense layer computes, up to the order of the sums.
public final class SparseLinear: Module {
    public let inFeatures: Int, outFeatures: Int
    let rowStarts: [Int32], columns: [Int32], values: [Float]
    public let bias: Tensor?

    /// The nonzeros of `linear`'s weight (its mask applied).
    public init(_ linear: Linear) throws {
        let w = try linear.weight.contiguous()
        guard w.count < Int(Int32.max) else { throw TensorError("SparseLinear: \(w.count) weights do not fit 32-bit indices") }
        inFeatures = linear.inFeatures
        outFeatures = linear.outFeatures
        var starts: [Int32] = [0], cols: [Int32] = [], vals: [Float] = []
        for r in 0..<outFeatures {
            for c in 0..<inFeatures {
                let v = w.data[r * inFeatures + c]
                if v != 0 { cols.append(Int32(c)); vals.append(v) }
            }
            starts.append(Int32(vals.count))
        }
        (rowStarts, columns, values) = (starts, cols, vals)
        bias = try linear.bias.map { b in try Autograd.noGrad { try b.clone() } }
        super.init(kind: "SparseLinear")
        if let bias { addBuffer("bias", bias) }
        training = linear.training
    }

    /// Weights kept.
    public var nonzeros: Int { values.count }
    public var density: Double { Double(values.count) / Double(max(inFeatures * outFeatures, 1)) }
    public override var summary: String {
        "SparseLinear(\(inFeatures), \(outFeatures), density=\(String(format: "%.4f", density)))"
    }

    /// A copy: the stored nonzeros are never changed, so they are shared; the bias is not.
    init(copying other: SparseLinear) throws {
        (inFeatures, outFeatures) = (other.inFeatures, other.outFeatures)
        (rowStarts, columns, values) = (other.rowStarts, other.columns, other.values)
        bias = try other.bias.map { b in try Autograd.noGrad { try b.clone() } }
        super.init(kind: "SparseLinear")
        if let bias { addBuffer("bias", bias) }
    }

    public override func copyStructure() throws -> Module { try SparseLinear(copying: self) }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw TensorError("SparseLinear: expected an input with \(inFeatures) features in its last dimension, got \(describeShape(x.shape))")
        }
        guard !(Autograd.isEnabled && x.requiresGrad) else {
            throw TensorError("SparseLinear: a sparse layer is inference-only (no gradients); train the masked network and convert it after")
        }
        let n = x.count / inFeatures
        let leading = Array(x.shape.dropLast())
        // Samples along the last axis, so each nonzero updates a run of n contiguous values.
        let xt = n == 1 ? try x.contiguous() : try x.reshape([n, inFeatures]).transpose(0, 1).contiguous()
        // One sample: the rows are the output itself.
        let yt = try Tensor(shape: n == 1 ? leading + [outFeatures] : [outFeatures, n])
        let b = try bias?.contiguous()
        let work = values.count * n
        rowStarts.withUnsafeBufferPointer { rp in columns.withUnsafeBufferPointer { cp in values.withUnsafeBufferPointer { vp in
            let run = { (range: Range<Int>) in
                lk_csr_matmul(rp.baseAddress!, cp.baseAddress, vp.baseAddress, b?.data, xt.data, n, yt.data,
                              range.lowerBound, range.upperBound)
            }
            if work < 1 << 16 { run(0..<outFeatures) } else { Parallel.forEachChunk(outFeatures) { _, r in run(r) } }
        } } }
        return n == 1 ? yt : try yt.transpose(0, 1).contiguous().reshape(leading + [outFeatures])
    }
}

import LopperCore
import LopperKernels

/// A Linear layer whose weight is stored as compressed sparse rows (only the nonzeros):
/// an inference-only form of a pruned layer (`lp.compact{sparse = true}`). It computes what
/// the dense layer computes, up to the order of the sums.
public final class SparseLinear: Module {
    public let inFeatures: Int, outFeatures: Int
    let weights: CSRMatrix
    public let bias: Tensor?
    /// Whether the ReLU that followed this layer is folded in (`SparseConversion.foldReLUs`):
    /// the outputs are rectified here and the ReLU module is gone, one module call fewer.
    public var rectified = false

    /// The nonzeros of `linear`'s weight (its mask applied).
    public init(_ linear: Linear) throws {
        inFeatures = linear.inFeatures
        outFeatures = linear.outFeatures
        weights = try CSRMatrix(linear.weight, layer: "SparseLinear")
        bias = try linear.bias.map { b in try Autograd.noGrad { try b.clone() } }
        super.init(kind: "SparseLinear")
        if let bias { addBuffer("bias", bias) }
        training = linear.training
    }

    /// Weights kept.
    public var nonzeros: Int { weights.nonzeros }
    public var density: Double { Double(weights.nonzeros) / Double(max(inFeatures * outFeatures, 1)) }
    public override var summary: String {
        "SparseLinear(\(inFeatures), \(outFeatures), density=\(String(format: "%.4f", density))\(rectified ? ", then ReLU" : ""))"
    }

    /// A copy: the stored nonzeros are never changed, so they are shared; the bias is not.
    init(copying other: SparseLinear) throws {
        (inFeatures, outFeatures) = (other.inFeatures, other.outFeatures)
        weights = other.weights
        bias = try other.bias.map { b in try Autograd.noGrad { try b.clone() } }
        rectified = other.rectified
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
        weights.multiply(xt.data, n, into: yt.data, bias: try bias?.contiguous())
        if rectified {
            let p = yt.data
            for i in 0..<yt.count { p[i] = p[i] > 0 ? p[i] : 0 }   // a select, so the loop vectorises
        }
        return n == 1 ? yt : try yt.transpose(0, 1).contiguous().reshape(leading + [outFeatures])
    }
}

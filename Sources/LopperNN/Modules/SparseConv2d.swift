import LopperCore
import LopperKernels

/// A pruned Conv2d for inference: its weight as compressed sparse rows [O, C·kh·kw], each
/// sample's im2col columns multiplied by it, so the work is the nonzero weights' (the rows'
/// runs of output positions vectorise). `lp.compact{sparse = true}` puts one in where
/// timing on the machine says it pays.
public final class SparseConv2d: Module {
    public let inChannels: Int, outChannels: Int
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    let weights: CSRMatrix
    public let bias: Tensor?

    public init(_ conv: Conv2d) throws {
        (inChannels, outChannels) = (conv.inChannels, conv.outChannels)
        kernel = (conv.weight.shape[2], conv.weight.shape[3])
        (stride, padding) = (conv.stride, conv.padding)
        weights = try CSRMatrix(conv.weight, layer: "SparseConv2d")
        bias = try conv.bias.map { b in try Autograd.noGrad { try b.clone() } }
        super.init(kind: "SparseConv2d")
        if let bias { addBuffer("bias", bias) }
        training = conv.training
    }

    init(copying other: SparseConv2d) throws {
        (inChannels, outChannels, kernel, stride, padding) = (other.inChannels, other.outChannels, other.kernel, other.stride, other.padding)
        weights = other.weights
        bias = try other.bias.map { b in try Autograd.noGrad { try b.clone() } }
        super.init(kind: "SparseConv2d")
        if let bias { addBuffer("bias", bias) }
    }

    public var density: Double {
        Double(weights.nonzeros) / Double(max(outChannels * inChannels * kernel.0 * kernel.1, 1))
    }
    public override var summary: String {
        "SparseConv2d(\(inChannels), \(outChannels), kernel=\(kernel.0)x\(kernel.1), density=\(String(format: "%.4f", density)))"
    }
    public override func copyStructure() throws -> Module { try SparseConv2d(copying: self) }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw TensorError("SparseConv2d: expected an input [N,\(inChannels),H,W], got \(describeShape(x.shape))")
        }
        guard !(Autograd.isEnabled && x.requiresGrad) else {
            throw TensorError("SparseConv2d: a sparse layer is inference-only (no gradients); train the masked network and convert it after")
        }
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let oh = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, ow = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
        guard h + 2 * padding.0 >= kernel.0, w + 2 * padding.1 >= kernel.1 else {
            throw TensorError("SparseConv2d: a \(kernel.0)x\(kernel.1) kernel does not fit the padded \(h)x\(w) input")
        }
        let input = try x.contiguous()
        let l = oh * ow, rows = inChannels * kernel.0 * kernel.1
        let out = try Tensor(shape: [n, outChannels, oh, ow])
        let cols = try Tensor(shape: [rows, l])
        let b = try bias?.contiguous()
        let g = lk_window(n: 1, c: inChannels, h: h, w: w, kh: kernel.0, kw: kernel.1, sh: stride.0, sw: stride.1,
                          ph: padding.0, pw: padding.1, oh: oh, ow: ow)
        for i in 0..<n {
            lk_im2col(input.data + i * inChannels * h * w, cols.data, g)
            weights.multiply(cols.data, l, into: out.data + i * outChannels * l, bias: b)
        }
        return out
    }
}

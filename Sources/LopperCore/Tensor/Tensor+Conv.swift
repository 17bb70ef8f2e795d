/// 2-d convolution as im2col + one GEMM. `unfold` (im2col) and `fold` (col2im) are each
/// other's adjoint, so each records the other as its backward: convolutions differentiate
/// twice (GraSP's Hessian-gradient products run through conv nets).

import LopperKernels

/// The geometry of a sliding 2-d window over [N, C, H, W] inputs.
public struct Window2d: Equatable {
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int)
    public var padding: (h: Int, w: Int)

    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) {
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = (padding.0, padding.1)
    }

    public static func == (a: Window2d, b: Window2d) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding
    }

    /// Output height and width for an input of height `h` and width `w`.
    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding.h - kernel.h) / stride.h + 1, (w + 2 * padding.w - kernel.w) / stride.w + 1)
    }

    /// The window over an input of `shape` in the C kernels' terms.
    func geometry(_ shape: [Int], _ oh: Int, _ ow: Int) -> lk_window {
        lk_window(n: shape[0], c: shape[1], h: shape[2], w: shape[3], kh: kernel.h, kw: kernel.w,
                  sh: stride.h, sw: stride.w, ph: padding.h, pw: padding.w, oh: oh, ow: ow)
    }

    /// Checks the window against an input shape; returns the output size.
    func check(_ shape: [Int], op: String) throws -> (Int, Int) {
        guard shape.count == 4 else {
            throw TensorError("\(op): expected an input of shape [N,C,H,W], got \(describeShape(shape))")
        }
        guard kernel.h > 0, kernel.w > 0, stride.h > 0, stride.w > 0, padding.h >= 0, padding.w >= 0 else {
            throw TensorError("\(op): kernel and stride must be positive and padding non-negative, got kernel \(kernel.h)x\(kernel.w), stride \(stride.h)x\(stride.w), padding \(padding.h)x\(padding.w)")
        }
        let (oh, ow) = outputSize(shape[2], shape[3])
        guard oh > 0, ow > 0, shape[2] + 2 * padding.h >= kernel.h, shape[3] + 2 * padding.w >= kernel.w else {
            throw TensorError("\(op): a \(kernel.h)x\(kernel.w) window does not fit an input of \(shape[2])x\(shape[3]) with padding \(padding.h)x\(padding.w)")
        }
        return (oh, ow)
    }
}

extension Tensor {
    /// im2col: [N, C, H, W] → [C·kh·kw, N·OH·OW]; row (c, i, j) holds input pixel
    /// (c, oh·s + i − p, ow·s + j − p) of every output position, zero outside the image.
    public func unfold(_ win: Window2d) throws -> Tensor {
        let (oh, ow) = try win.check(shape, op: "unfold")
        let x = contiguous()
        let out = Tensor(uninitializedShape: [shape[1] * win.kernel.h * win.kernel.w, shape[0] * oh * ow])
        lk_im2col(x.data, out.data, win.geometry(shape, oh, ow))
        return out.recorded("unfold", [self]) { [s = shape] g in [try g.fold(win, into: s)] }
    }

    /// col2im, the adjoint of `unfold`: sums each column entry back into the input pixel it
    /// was read from, giving a tensor of shape `inputShape`.
    public func fold(_ win: Window2d, into inputShape: [Int]) throws -> Tensor {
        let (oh, ow) = try win.check(inputShape, op: "fold")
        let rows = inputShape[1] * win.kernel.h * win.kernel.w, cols = inputShape[0] * oh * ow
        guard shape == [rows, cols] else {
            throw TensorError("fold: expected columns of shape [\(rows),\(cols)] for input \(describeShape(inputShape)), got \(describeShape(shape))")
        }
        let g = contiguous()
        let out = Tensor(shape: inputShape)
        lk_col2im(g.data, out.data, win.geometry(inputShape, oh, ow))
        return out.recorded("fold", [self]) { g in [try g.unfold(win)] }
    }

    /// Cross-correlation of [N, C, H, W] inputs with [O, C, kh, kw] weights (PyTorch's
    /// conv2d, groups = 1), plus an optional bias of [O].
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                       padding: (Int, Int) = (0, 0)) throws -> Tensor {
        guard weight.rank == 4 else {
            throw TensorError("conv2d: expected a weight of shape [O,C,kh,kw], got \(describeShape(weight.shape))")
        }
        guard rank == 4, shape[1] == weight.shape[1] else {
            throw TensorError("conv2d: input \(describeShape(shape)) does not match weight \(describeShape(weight.shape)) (expected [N,\(weight.shape[1]),H,W])")
        }
        let o = weight.shape[0]
        if let bias, bias.shape != [o] {
            throw TensorError("conv2d: expected a bias of shape [\(o)], got \(describeShape(bias.shape))")
        }
        let win = Window2d(kernel: (weight.shape[2], weight.shape[3]), stride: stride, padding: padding)
        let (oh, ow) = try win.check(shape, op: "conv2d")
        let cols = try unfold(win)
        let y = try weight.reshape([o, -1]).matmul(cols)               // [O, N·OH·OW]
        var out = try y.view([o, shape[0], oh, ow]).permute([1, 0, 2, 3]).contiguous()
        if let bias { out = try out.add(bias.view([1, o, 1, 1])) }
        return out
    }
}

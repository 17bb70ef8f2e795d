/// 2-d convolution as im2col + one GEMM. `unfold` (im2col) and `fold` (col2im) are each
/// other's adjoint, so each records the other as its backward: convolutions differentiate
/// twice (GraSP's Hessian-gradient products run through conv nets).

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
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let x = contiguous()
        let l = oh * ow, cols = n * l
        let out = Tensor(uninitializedShape: [c * win.kernel.h * win.kernel.w, cols])
        let src = x.data, dst = out.data
        for ch in 0..<c {
            for ki in 0..<win.kernel.h {
                for kj in 0..<win.kernel.w {
                    let row = dst + ((ch * win.kernel.h + ki) * win.kernel.w + kj) * cols
                    for b in 0..<n {
                        let plane = src + (b * c + ch) * h * w
                        for y in 0..<oh {
                            let o = row + b * l + y * ow
                            let iy = y * win.stride.h - win.padding.h + ki
                            if iy < 0 || iy >= h { for xo in 0..<ow { o[xo] = 0 }; continue }
                            let line = plane + iy * w
                            let ix0 = kj - win.padding.w
                            if win.stride.w == 1 && ix0 >= 0 && ix0 + ow <= w {
                                o.update(from: line + ix0, count: ow)
                                continue
                            }
                            for xo in 0..<ow {
                                let ix = xo * win.stride.w + ix0
                                o[xo] = ix >= 0 && ix < w ? line[ix] : 0
                            }
                        }
                    }
                }
            }
        }
        return out.recorded("unfold", [self]) { [s = shape] g in [try g.fold(win, into: s)] }
    }

    /// col2im, the adjoint of `unfold`: sums each column entry back into the input pixel it
    /// was read from, giving a tensor of shape `inputShape`.
    public func fold(_ win: Window2d, into inputShape: [Int]) throws -> Tensor {
        let (oh, ow) = try win.check(inputShape, op: "fold")
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let l = oh * ow, cols = n * l
        guard shape == [c * win.kernel.h * win.kernel.w, cols] else {
            throw TensorError("fold: expected columns of shape [\(c * win.kernel.h * win.kernel.w),\(cols)] for input \(describeShape(inputShape)), got \(describeShape(shape))")
        }
        let g = contiguous()
        let out = Tensor(shape: inputShape)
        let src = g.data, dst = out.data
        for ch in 0..<c {
            for ki in 0..<win.kernel.h {
                for kj in 0..<win.kernel.w {
                    let row = src + ((ch * win.kernel.h + ki) * win.kernel.w + kj) * cols
                    for b in 0..<n {
                        let plane = dst + (b * c + ch) * h * w
                        for y in 0..<oh {
                            let iy = y * win.stride.h - win.padding.h + ki
                            if iy < 0 || iy >= h { continue }
                            let o = row + b * l + y * ow, line = plane + iy * w
                            let ix0 = kj - win.padding.w
                            for xo in 0..<ow {
                                let ix = xo * win.stride.w + ix0
                                if ix >= 0 && ix < w { line[ix] += o[xo] }
                            }
                        }
                    }
                }
            }
        }
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

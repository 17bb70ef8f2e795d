/// 2-d convolution by groups of samples (one sample on the direct path, so its planes stay
/// in cache); the groups are split over the workers (`Parallel`), and `ConvPlan` runs each
/// one (direct kernels, or im2col + GEMM) with its output in NCHW order.
/// `unfold` (im2col) and `fold` (col2im) are each other's adjoint, so each records the
/// other as its backward; a convolution's backward under `createGraph` is written with
/// them, so convolutions differentiate twice (GraSP's Hessian-gradient products run
/// through conv nets).

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
        let limit = 1 << 30  // keeps the size arithmetic below far from overflow
        guard kernel.h > 0, kernel.w > 0, stride.h > 0, stride.w > 0, padding.h >= 0, padding.w >= 0,
              [kernel.h, kernel.w, stride.h, stride.w, padding.h, padding.w].allSatisfy({ $0 <= limit }) else {
            throw TensorError("\(op): kernel and stride must be positive and padding non-negative (each at most 2^30), got kernel \(kernel.h)x\(kernel.w), stride \(stride.h)x\(stride.w), padding \(padding.h)x\(padding.w)")
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
        let x = try contiguous()
        let out = try Tensor(uninitializedShape: [shape[1] * win.kernel.h * win.kernel.w, shape[0] * oh * ow])
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
        let g = try contiguous()
        let out = try Tensor(shape: inputShape)
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
        let x = try contiguous(), w = try weight.contiguous(), b = try bias?.contiguous()
        var plan = ConvPlan(input: shape, weight: weight.shape, window: win, output: (oh, ow))
        let out = try Tensor(uninitializedShape: [shape[0], o, oh, ow])
        let n = shape[0]
        // Too few groups for the workers (batch 1): groups one after another, each product split.
        let serial = !plan.direct && plan.groups(n) < Parallel.workers
        plan.splitRows = serial
        let prepared = plan.winograd ? plan.prepared(w.data) : []
        prepared.withUnsafeBufferPointer { prepared in
            Parallel.forEachChunk(serial ? 1 : plan.groups(n)) { _, chunk in
                let groups = serial ? 0..<plan.groups(n) : chunk
                let scratch = plan.scratch(backward: false)
                for group in groups {
                    let s = group * plan.group, count = Swift.min(plan.group, n - s)
                    plan.forward(x.data + s * plan.inputPlane, count: count, w.data, prepared: prepared.baseAddress ?? UnsafePointer(w.data),
                                 b?.data, into: out.data + s * plan.outputPlane, scratch)
                }
            }
        }
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return out.recorded("conv2d", inputs) { [input = self] g in
            if Autograd.isEnabled { return try input.conv2dGradientsRecorded(g, weight, bias: bias, win) }
            return try input.conv2dGradients(try g.contiguous(), w, wantW: weight.requiresGrad, bias: bias, plan)
        }
    }

    /// The gradients of `conv2d` for input, weight and bias, by groups like the forward
    /// pass; each chunk of groups sums its own weight and bias gradients, added up in chunk
    /// order at the end.
    private func conv2dGradients(_ g: Tensor, _ w: Tensor, wantW: Bool, bias: Tensor?, _ plan: ConvPlan) throws -> [Tensor?] {
        let x = try contiguous(), n = shape[0], o = plan.o, l = plan.oh * plan.ow
        let wantB = bias?.requiresGrad ?? false
        let gx = requiresGrad ? try Tensor(uninitializedShape: shape) : nil
        let chunks = Parallel.chunkCount(plan.groups(n))
        let gw = try Tensor(shape: [chunks, w.count]), gb = try Tensor(shape: [chunks, o])
        let prepared = gx == nil ? [] : plan.prepared(w.data)
        prepared.withUnsafeBufferPointer { preparedWeights in
            Parallel.forEachChunk(plan.groups(n)) { chunk, groups in
                let scratch = plan.scratch(backward: true)
                let gwChunk = gw.data + chunk * w.count, gbChunk = gb.data + chunk * o
                for group in groups {
                    let s = group * plan.group, count = Swift.min(plan.group, n - s)
                    let gs = g.data + s * plan.outputPlane
                    plan.backward(x.data + s * plan.inputPlane, gs, count: count, w.data,
                                  prepared: preparedWeights.baseAddress ?? UnsafePointer(w.data),
                                  gw: wantW ? gwChunk : nil, gx: gx.map { $0.data + s * plan.inputPlane }, scratch)
                    if wantB {
                        for i in 0..<count { for k in 0..<o {
                            var t: Float = 0; let r = gs + (i * o + k) * l; for j in 0..<l { t += r[j] }; gbChunk[k] += t
                        } }
                    }
                }
                plan.finish(scratch, gw: wantW ? gwChunk : nil)
            }
        }
        func total(_ t: Tensor, _ shape: [Int]) throws -> Tensor {
            let per = t.count / chunks, sum = try Tensor(uninitializedShape: shape)
            sum.data.update(from: t.data, count: per)
            for c in 1..<Swift.max(1, chunks) { let p = t.data + c * per; for i in 0..<per { sum.data[i] += p[i] } }
            return sum
        }
        return [gx, wantW ? try total(gw, w.shape) : nil, wantB ? try total(gb, [o]) : nil]
    }

    /// The same gradients written with recorded ops (unfold, fold, matmul), so that a
    /// backward pass under `createGraph` can be differentiated again.
    private func conv2dGradientsRecorded(_ g: Tensor, _ weight: Tensor, bias: Tensor?, _ win: Window2d) throws -> [Tensor?] {
        let o = weight.shape[0]
        let g2 = try g.permute([1, 0, 2, 3]).reshape([o, -1])                   // [O, N·OH·OW]
        return [requiresGrad ? try weight.reshape([o, -1]).transpose(0, 1).matmul(g2).fold(win, into: shape) : nil,
                weight.requiresGrad ? try g2.matmul(unfold(win).transpose(0, 1)).reshape(weight.shape) : nil,
                bias?.requiresGrad == true ? try g.sum(dim: 0).sum(dim: 1).sum(dim: 1) : nil]
    }
}

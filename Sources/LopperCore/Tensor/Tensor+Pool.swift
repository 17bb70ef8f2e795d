import LopperKernels

/// 2-d pooling over [N, C, H, W]. Max pooling remembers where each maximum came from;
/// average pooling (fixed and adaptive windows) is linear. Each forward op records a
/// backward op that records the forward one in turn, so pooling differentiates twice.

/// Where average-pooling windows start and end along one axis, and what each divides by.
struct PoolBins {
    var start: [Int], end: [Int]

    /// Fixed windows of `k` with stride and padding, clipped to the input.
    static func fixed(input: Int, k: Int, stride: Int, padding: Int, output: Int) -> PoolBins {
        let s = (0..<output).map { Swift.max($0 * stride - padding, 0) }
        let e = (0..<output).map { Swift.min($0 * stride - padding + k, input) }
        return PoolBins(start: s, end: e)
    }

    /// PyTorch's adaptive bins: [⌊i·In/Out⌋, ⌈(i+1)·In/Out⌉).
    static func adaptive(input: Int, output: Int) -> PoolBins {
        PoolBins(start: (0..<output).map { $0 * input / output },
                 end: (0..<output).map { (($0 + 1) * input + output - 1) / output })
    }
}

extension Tensor {
    /// This tensor's memory read as 32-bit integers (max pooling's winner positions).
    var indices: UnsafeMutablePointer<Int32> { UnsafeMutableRawPointer(data).assumingMemoryBound(to: Int32.self) }

    /// Max over each window (no padding is counted as a maximum).
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws -> Tensor {
        let win = Window2d(kernel: kernel, stride: stride ?? kernel, padding: padding)
        let (oh, ow) = try win.check(shape, op: "max_pool2d")
        guard padding.0 * 2 <= kernel.0, padding.1 * 2 <= kernel.1 else {
            throw TensorError("max_pool2d: padding should be at most half the kernel, got padding \(padding.0)x\(padding.1) for kernel \(kernel.0)x\(kernel.1)")
        }
        let x = try contiguous()
        let out = try Tensor(uninitializedShape: [shape[0], shape[1], oh, ow])
        // Winner positions, kept in pooled tensor memory (Int32 in Float-sized slots).
        let positions = try Tensor(uninitializedShape: out.shape)
        lk_max_pool(x.data, out.data, positions.indices, win.geometry(shape, oh, ow))
        return out.recorded("max_pool2d", [self]) { [s = shape] g in
            [try g.scatterPlanes(positions, into: s)]
        }
    }

    /// The backward of max pooling: each gradient entry added at its recorded position.
    func scatterPlanes(_ positions: Tensor, into inputShape: [Int]) throws -> Tensor {
        let g = try contiguous()
        let out = try Tensor(shape: inputShape)
        let planes = inputShape[0] * inputShape[1]
        lk_scatter_planes(g.data, out.data, positions.indices, planes, inputShape[2] * inputShape[3], g.count / Swift.max(planes, 1))
        return out.recorded("max_pool2d_backward", [self]) { [s = shape] gg in
            [try gg.gatherPlanes(positions, shape: s)]
        }
    }

    /// The adjoint of `scatterPlanes`: reads each recorded position.
    func gatherPlanes(_ positions: Tensor, shape outShape: [Int]) throws -> Tensor {
        let x = try contiguous()
        let out = try Tensor(uninitializedShape: outShape)
        let planes = outShape[0] * outShape[1]
        lk_gather_planes(x.data, out.data, positions.indices, planes, shape[2] * shape[3], out.count / Swift.max(planes, 1))
        return out.recorded("max_pool2d_gather", [self]) { [s = shape] g in
            [try g.scatterPlanes(positions, into: s)]
        }
    }

    /// Mean over each window; padding counts as zeros in the mean (PyTorch's default,
    /// count_include_pad = true).
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws -> Tensor {
        let win = Window2d(kernel: kernel, stride: stride ?? kernel, padding: padding)
        let (oh, ow) = try win.check(shape, op: "avg_pool2d")
        let rows = PoolBins.fixed(input: shape[2], k: kernel.0, stride: win.stride.h, padding: padding.0, output: oh)
        let cols = PoolBins.fixed(input: shape[3], k: kernel.1, stride: win.stride.w, padding: padding.1, output: ow)
        return try pooledMean(rows, cols, divisor: Float(kernel.0 * kernel.1))
    }

    /// Mean over PyTorch's adaptive bins, giving an output of `size` (H', W').
    public func adaptiveAvgPool2d(_ size: (Int, Int)) throws -> Tensor {
        guard rank == 4 else {
            throw TensorError("adaptive_avg_pool2d: expected an input of shape [N,C,H,W], got \(describeShape(shape))")
        }
        guard size.0 > 0, size.1 > 0, size.0 <= 1 << 30, size.1 <= 1 << 30 else {
            throw TensorError("adaptive_avg_pool2d: output size must be positive (each at most 2^30), got \(size.0)x\(size.1)")
        }
        try MemoryBudget.checkShape([shape[0], shape[1], size.0, size.1], op: "adaptive_avg_pool2d")
        return try pooledMean(.adaptive(input: shape[2], output: size.0), .adaptive(input: shape[3], output: size.1), divisor: nil)
    }

    /// Window means; `divisor` nil divides by each window's own area.
    func pooledMean(_ rows: PoolBins, _ cols: PoolBins, divisor: Float?) throws -> Tensor {
        let x = try contiguous()
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (rows.start.count, cols.start.count)
        let out = try Tensor(uninitializedShape: [shape[0], shape[1], oh, ow])
        for p in 0..<planes {
            let plane = x.data + p * h * w
            for y in 0..<oh {
                for xo in 0..<ow {
                    var s: Float = 0
                    for iy in rows.start[y]..<rows.end[y] { for ix in cols.start[xo]..<cols.end[xo] { s += plane[iy * w + ix] } }
                    let area = Float((rows.end[y] - rows.start[y]) * (cols.end[xo] - cols.start[xo]))
                    out.data[(p * oh + y) * ow + xo] = s / (divisor ?? area)
                }
            }
        }
        return out.recorded("avg_pool2d", [self]) { [s = shape] g in
            [try g.spreadMean(rows, cols, divisor: divisor, into: s)]
        }
    }

    /// The adjoint of `pooledMean`: each entry spread evenly over its window.
    func spreadMean(_ rows: PoolBins, _ cols: PoolBins, divisor: Float?, into inputShape: [Int]) throws -> Tensor {
        let g = try contiguous()
        let out = try Tensor(shape: inputShape)
        let (planes, h, w) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
        let (oh, ow) = (rows.start.count, cols.start.count)
        for p in 0..<planes {
            let plane = out.data + p * h * w
            for y in 0..<oh {
                for xo in 0..<ow {
                    let area = Float((rows.end[y] - rows.start[y]) * (cols.end[xo] - cols.start[xo]))
                    let v = g.data[(p * oh + y) * ow + xo] / (divisor ?? area)
                    for iy in rows.start[y]..<rows.end[y] { for ix in cols.start[xo]..<cols.end[xo] { plane[iy * w + ix] += v } }
                }
            }
        }
        return out.recorded("avg_pool2d_backward", [self]) { gg in
            [try gg.pooledMean(rows, cols, divisor: divisor)]
        }
    }
}

/// How a group of samples of a 2-d convolution runs, forward and backward. Stride-1 windows
/// with outputs of 10x10 or more over few input channels use the direct kernels over
/// "wide" padded planes (`lk_conv_wide`), one sample at a time: no column matrix, and the
/// input gradient is the same kernel over the zero-padded output gradient with the weights
/// flipped. 3x3 "same" layers over more channels use Winograd F(2x2, 3x3) over a group of
/// samples (`lk_wino_*`: 16 products [tiles, C] · [C, O], 2.25× fewer multiply-adds), and
/// their gradients are its exact adjoints. Other windows use im2col + sgemm over a group of samples at once, so that a
/// product has at least `columnsPerProduct` columns even on 8x8…2x2 maps (one sample's
/// 2x2 map made a 4-column product that ran at a third of the speed).

import CBLAS
import LopperKernels

struct ConvPlan {
    /// The smallest output plane (OH·OW) that takes the direct path (tests move it).
    nonisolated(unsafe) static var directMinimumOutput = 100
    /// The most rows (C·kh·kw) that take the direct path: above it sgemm is faster.
    nonisolated(unsafe) static var directMaximumRows = 300
    /// How many columns (samples × OH·OW) one product of the column path aims for.
    nonisolated(unsafe) static var columnsPerProduct = 512
    /// The fewest input and output channels that take the Winograd path (tests move it).
    nonisolated(unsafe) static var winogradMinimumChannels = 64
    /// How many tiles (samples × OH·OW / 4) one Winograd product aims for.
    nonisolated(unsafe) static var tilesPerProduct = 256
    /// The smallest output plane (OH·OW) that takes the Winograd path: one tile a sample
    /// (2x2 maps) makes products too thin to pay for the transforms.
    nonisolated(unsafe) static var winogradMinimumOutput = 16
    /// The fewest tiles a Winograd product may have (below, its products are too thin).
    nonisolated(unsafe) static var winogradMinimumTiles = 64

    let c, h, w, o, kh, kw, oh, ow: Int
    let padding: (h: Int, w: Int)
    let window: Window2d
    let direct: Bool
    let winograd: Bool
    /// Samples per product on the column and Winograd paths (1 on the direct path).
    let group: Int

    init(input: [Int], weight: [Int], window: Window2d, output: (Int, Int)) {
        (c, h, w) = (input[1], input[2], input[3])
        (o, kh, kw) = (weight[0], weight[2], weight[3])
        (oh, ow) = output
        padding = window.padding
        self.window = window
        // Measured on 2 cores with AVX-512 sgemm: the direct kernels win down to 10x10
        // outputs over few input channels (LeNet-5, ResNet-20's first stages); with 64
        // input channels and more, or at 8x8, sgemm is faster. Winograd (measured on AVX2,
        // forward and backward at batch 128) beats im2col + sgemm 1.3–1.6× from 64 channels
        // on 16x16…4x4 maps, and loses to the direct kernels at 16–32 channels and to
        // sgemm at 2x2 (one tile a sample).
        let n = input[0], l = Swift.max(1, oh * ow)
        let perWorker = (n + Parallel.workers - 1) / Parallel.workers
        // Winograd needs enough tiles for every worker's products (not batch 1) and channels
        // by eights (its transforms' vectors).
        let tiles = l / 4, winogradGroup = Swift.max(1, Swift.min(perWorker, (ConvPlan.tilesPerProduct + tiles - 1) / Swift.max(1, tiles)))
        winograd = window == Window2d(kernel: (3, 3), padding: (1, 1)) && h % 2 == 0 && w % 2 == 0 && l >= ConvPlan.winogradMinimumOutput
            && c % 8 == 0 && o % 8 == 0 && Swift.min(c, o) >= ConvPlan.winogradMinimumChannels
            && (n + winogradGroup - 1) / winogradGroup >= Parallel.workers && winogradGroup * tiles >= ConvPlan.winogradMinimumTiles
        direct = !winograd && window.stride == (1, 1) && oh * ow >= ConvPlan.directMinimumOutput
            && c * kh * kw <= ConvPlan.directMaximumRows
        group = winograd ? winogradGroup : direct ? 1 : Swift.max(1, Swift.min(perWorker, (ConvPlan.columnsPerProduct + l - 1) / l))
    }

    /// The number of groups `n` samples make.
    func groups(_ n: Int) -> Int { (n + group - 1) / group }

    /// Whether the forward product is split over the workers by output channels: when the
    /// samples alone cannot keep them busy (set by `conv2d`).
    var splitRows = false

    var inputPlane: Int { c * h * w }
    var outputPlane: Int { o * oh * ow }
    private var rows: Int { c * kh * kw }

    // Direct geometry: input padded to hp × wp; output position p = y·wp + x.
    private var hp: Int { h + 2 * padding.h }
    private var wp: Int { w + 2 * padding.w }
    // Multiples of 32 (the AVX-512 kernel's block); inputs get 32 floats of slack.
    private var positions: Int { (oh * wp + 31) / 32 * 32 }
    // The output gradient padded by the kernel size less one on each side (width wg);
    // correlating it with the flipped weights gives the padded input's gradient.
    private var wg: Int { ow + 2 * (kw - 1) }
    private var gradPlane: Int { (oh + 2 * (kh - 1)) * wg }
    private var gradPositions: Int { (hp * wg + 31) / 32 * 32 }

    /// Zeroed scratch buffers for one worker; borders and slack are never written, so they
    /// stay zero from sample to sample. `input`: the padded input planes (the columns on
    /// the im2col path); `wide`: the output, or its gradient, in wide planes; `padded`:
    /// the output gradient padded for the input-gradient kernel; `inputGrad`: that
    /// kernel's result in wide planes. On the Winograd path: the padded input, its
    /// transform V, the output's (or its gradient's) M, the input's gradient dV and the
    /// weights' dU (`extra`).
    final class Scratch {
        let input, wide, padded, inputGrad, extra: UnsafeMutablePointer<Float>
        private let sizes: [Int]
        /// `zeroed`: the direct path's padded planes need zero borders; the column path
        /// writes every entry it reads (im2col writes the zeros outside the image itself).
        /// The blocks come from the tensors' cache of freed blocks and go back to it: fresh
        /// pages for megabytes of scratch every layer cost as much as the transforms.
        init(_ sizes: [Int], zeroed: Bool = true) {
            self.sizes = sizes
            let p = sizes.map { n -> UnsafeMutablePointer<Float> in
                let bytes = Storage.blockBytes(n)
                guard let raw = BlockCache.shared.take(bytes) ?? Storage.allocate(bytes) else {
                    fatalError("lopper: out of memory allocating \(bytes) bytes of convolution scratch")
                }
                let q = raw.bindMemory(to: Float.self, capacity: Swift.max(1, n))
                if zeroed { q.initialize(repeating: 0, count: Swift.max(1, n)) }
                return q
            }
            (input, wide, padded, inputGrad) = (p[0], p[1], p[2], p[3])
            extra = p.count > 4 ? p[4] : p[0]
        }
        deinit {
            for (q, n) in zip([input, wide, padded, inputGrad, extra].prefix(sizes.count), sizes) {
                BlockCache.shared.give(UnsafeMutableRawPointer(q), bytes: Storage.blockBytes(n))
            }
        }
    }

    func scratch(backward: Bool) -> Scratch {
        if winograd {
            let t = group * oh * ow / 4, padded = group * (h + 2) * (w + 2) * c
            guard backward else { return Scratch([padded, 16 * c * t, 16 * o * t, 0], zeroed: false) }
            let s = Scratch([padded, 16 * c * t, 16 * o * t, 16 * c * t, 16 * o * c], zeroed: false)
            s.extra.initialize(repeating: 0, count: 16 * o * c)  // dU, summed over groups
            return s
        }
        if !direct { return Scratch([rows * group * oh * ow, group > 1 ? o * group * oh * ow : 0, 0, 0], zeroed: false) }
        let padded = c * hp * wp + kw + 32
        return backward ? Scratch([padded, o * positions, o * gradPlane + kw + 32, c * gradPositions])
                        : Scratch([padded, o * positions, 0, 0])
    }

    /// Copies one sample into the interior of the padded planes.
    private func pad(_ x: UnsafePointer<Float>, into xp: UnsafeMutablePointer<Float>) {
        for ch in 0..<c {
            for y in 0..<h {
                (xp + (ch * hp + y + padding.h) * wp + padding.w).update(from: x + (ch * h + y) * w, count: w)
            }
        }
    }

    /// y [count, O, OH, OW] = w ⋆ x (+ bias) for `count` consecutive samples (at most
    /// `group`); `prepared` is `prepared(weight)`.
    func forward(_ x: UnsafePointer<Float>, count: Int, _ weight: UnsafePointer<Float>, prepared: UnsafePointer<Float>,
                 _ bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, _ s: Scratch) {
        let l = oh * ow
        if winograd {
            let t = count * l / 4
            lk_wino_pad(x, count, c, h, w, s.input)
            lk_wino_input(s.input, count, c, h, w, s.wide)
            for f in 0..<16 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(o), Int32(c), 1, s.wide + f * t * c, Int32(c),
                            prepared + f * c * o, Int32(o), 0, s.padded + f * t * o, Int32(o))
            }
            lk_wino_output(s.padded, count, o, h, w, bias, y)
            return
        }
        if direct {
            for i in 0..<count {
                pad(x + i * inputPlane, into: s.input)
                lk_conv_wide(s.input, c, hp * wp, wp, weight, o, kh, kw, s.wide, positions)
                let yi = y + i * outputPlane
                for k in 0..<o {
                    let v = bias?[k] ?? 0
                    for r in 0..<oh {
                        let src = s.wide + k * positions + r * wp, dst = yi + k * l + r * ow
                        for j in 0..<ow { dst[j] = src[j] + v }
                    }
                }
            }
            return
        }
        let cols = count * l
        lk_im2col(x, s.input, window.geometry([count, c, h, w], oh, ow))
        // One sample's product lands in place; a group's is [O, count·l], spread out below.
        let product = count == 1 ? y : s.wide
        // Fewer groups than workers (batch 1): the product's rows are split over them.
        let parts = splitRows ? Parallel.chunkCount(o) : 1
        Parallel.forEachChunk(parts == 1 ? 1 : o) { _, r in
            let r = parts == 1 ? 0..<o : r
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(r.count), Int32(cols), Int32(rows), 1,
                        weight + r.lowerBound * rows, Int32(rows), s.input, Int32(cols), 0, product + r.lowerBound * cols, Int32(cols))
        }
        if count == 1 {
            if let bias { for k in 0..<o { let v = bias[k], r = y + k * l; for j in 0..<l { r[j] += v } } }
            return
        }
        for i in 0..<count {
            for k in 0..<o {
                let v = bias?[k] ?? 0, src = product + k * cols + i * l, dst = y + (i * o + k) * l
                for j in 0..<l { dst[j] = src[j] + v }
            }
        }
    }

    /// The weights as the path's kernels need them: on the Winograd path transformed,
    /// [16, C, O]; on the direct path as the input gradient's kernel needs them, [C, O, kh,
    /// kw] flipped in both spatial directions; nothing on the column path.
    func prepared(_ weight: UnsafePointer<Float>) -> [Float] {
        if winograd {
            var u = [Float](repeating: 0, count: 16 * c * o)
            u.withUnsafeMutableBufferPointer { lk_wino_weights(weight, o, c, $0.baseAddress!) }
            return u
        }
        guard direct else { return [] }
        var f = [Float](repeating: 0, count: o * rows)
        for k in 0..<o { for ch in 0..<c { for i in 0..<kh { for j in 0..<kw {
            f[((ch * o + k) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)] = weight[((k * c + ch) * kh + i) * kw + j]
        } } } }
        return f
    }

    /// Adds the weight gradient of `count` consecutive samples (at most `group`) into `gw`
    /// and writes their input gradients into `gx` (either may be nil).
    func backward(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, count: Int, _ weight: UnsafePointer<Float>,
                  prepared: UnsafePointer<Float>, gw: UnsafeMutablePointer<Float>?, gx: UnsafeMutablePointer<Float>?, _ s: Scratch) {
        let l = oh * ow
        if winograd {
            backwardWinograd(x, g, count: count, prepared: prepared, gw: gw, gx: gx, s)
            return
        }
        if direct {
            let flipped = prepared
            for i in 0..<count {
                backwardDirect(x + i * inputPlane, g + i * outputPlane, flipped: flipped, gw: gw,
                               gx: gx.map { $0 + i * inputPlane }, s)
            }
            return
        }
        let cols = count * l, geometry = window.geometry([count, c, h, w], oh, ow)
        // The output gradient as [O, count·l] (already so for one sample).
        var product = g
        if count > 1 {
            for i in 0..<count { for k in 0..<o { (s.wide + k * cols + i * l).update(from: g + (i * o + k) * l, count: l) } }
            product = UnsafePointer(s.wide)
        }
        if let gw {
            lk_im2col(x, s.input, geometry)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(o), Int32(rows), Int32(cols), 1,
                        product, Int32(cols), s.input, Int32(cols), 1, gw, Int32(rows))
        }
        if let gx {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(cols), Int32(o), 1,
                        weight, Int32(rows), product, Int32(cols), 0, s.input, Int32(cols))
            gx.initialize(repeating: 0, count: count * inputPlane)
            lk_col2im(s.input, gx, geometry)
        }
    }

    /// A group's gradients on the Winograd path: the output gradient's transform dM feeds
    /// both dU = Vᵀ dM (the weights') and dV = dM Uᵀ (the input's).
    private func backwardWinograd(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, count: Int, prepared u: UnsafePointer<Float>,
                                  gw: UnsafeMutablePointer<Float>?, gx: UnsafeMutablePointer<Float>?, _ s: Scratch) {
        let t = count * oh * ow / 4
        lk_wino_output_adjoint(g, count, o, h, w, s.padded)
        if let gw {
            lk_wino_pad(x, count, c, h, w, s.input)
            lk_wino_input(s.input, count, c, h, w, s.wide)
            for f in 0..<16 {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(c), Int32(o), Int32(t), 1, s.wide + f * t * c, Int32(c),
                            s.padded + f * t * o, Int32(o), 1, s.extra + f * c * o, Int32(o))
            }
            _ = gw  // dU sums over the chunk's groups; `finish` transforms it into gw once
        }
        if let gx {
            for f in 0..<16 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(c), Int32(o), 1, s.padded + f * t * o, Int32(o),
                            u + f * c * o, Int32(o), 0, s.inputGrad + f * t * c, Int32(c))
            }
            lk_wino_input_adjoint(s.inputGrad, count, c, h, w, s.input, gx)
        }
    }

    /// Ends a chunk of `backward` calls that shared scratch `s`: on the Winograd path the
    /// weights' gradient summed in the transformed domain (dU) is added into gw.
    func finish(_ s: Scratch, gw: UnsafeMutablePointer<Float>?) {
        if winograd, let gw { lk_wino_weights_grad(s.extra, o, c, gw) }
    }

    /// One sample's gradients on the direct path.
    private func backwardDirect(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, flipped: UnsafePointer<Float>,
                                gw: UnsafeMutablePointer<Float>?, gx: UnsafeMutablePointer<Float>?, _ s: Scratch) {
        let l = oh * ow
        if let gw {
            for k in 0..<o { for r in 0..<oh { (s.wide + k * positions + r * wp).update(from: g + k * l + r * ow, count: ow) } }
            pad(x, into: s.input)
            lk_conv_wide_weight_grad(s.input, c, hp * wp, wp, s.wide, o, positions, kh, kw, gw)
        }
        if let gx {
            for k in 0..<o { for r in 0..<oh {
                (s.padded + k * gradPlane + (r + kh - 1) * wg + kw - 1).update(from: g + k * l + r * ow, count: ow)
            } }
            lk_conv_wide(s.padded, o, gradPlane, wg, flipped, c, kh, kw, s.inputGrad, gradPositions)
            for ch in 0..<c { for r in 0..<h {
                (gx + (ch * h + r) * w).update(from: s.inputGrad + ch * gradPositions + (r + padding.h) * wg + padding.w, count: w)
            } }
        }
    }
}

import XCTest
@testable import LopperCore
import LopperKernels

/// Convolution, pooling and the fused linear op against finite differences, and their
/// second derivatives (GraSP differentiates through them twice).
extension GradientCheckTests {
    func testConvolution() throws {
        try gradcheck("conv2d", [r([2, 2, 5, 5]), r([3, 2, 3, 3]), r([3])]) { try $0[0].conv2d($0[1], bias: $0[2]) }
        try gradcheck("conv2d stride 2 padding 1", [r([1, 2, 6, 5]), r([2, 2, 3, 3])]) {
            try $0[0].conv2d($0[1], stride: (2, 2), padding: (1, 1))
        }
        try gradcheck("conv2d 1x1", [r([2, 3, 3, 3]), r([4, 3, 1, 1])]) { try $0[0].conv2d($0[1]) }
        // The direct kernels, with AVX-512 where the processor has it, and without.
        let wide512 = lk_wide512()
        defer { lk_set_wide512(wide512) }
        for avx512 in [true, false] {
            lk_set_wide512(avx512 ? 1 : 0)
            try gradcheck("conv2d direct (10x10 outputs)\(avx512 ? "" : ", AVX2")", [r([2, 2, 10, 10]), r([3, 2, 3, 3]), r([3])]) {
                try $0[0].conv2d($0[1], bias: $0[2], padding: (1, 1))
            }
        }
        // Winograd F(2x2, 3x3), in groups of 2 samples with a remainder.
        let saved = (ConvPlan.winogradMinimumChannels, ConvPlan.winogradMinimumTiles, ConvPlan.tilesPerProduct)
        defer { (ConvPlan.winogradMinimumChannels, ConvPlan.winogradMinimumTiles, ConvPlan.tilesPerProduct) = saved }
        (ConvPlan.winogradMinimumChannels, ConvPlan.winogradMinimumTiles, ConvPlan.tilesPerProduct) = (1, 1, 8)
        try gradcheck("conv2d Winograd", [r([3, 8, 4, 6]), r([8, 8, 3, 3]), r([8])]) {
            XCTAssertTrue(ConvPlan(input: $0[0].shape, weight: $0[1].shape, window: Window2d(kernel: (3, 3), padding: (1, 1)), output: (4, 6)).winograd)
            return try $0[0].conv2d($0[1], bias: $0[2], padding: (1, 1))
        }
        (ConvPlan.winogradMinimumChannels, ConvPlan.winogradMinimumTiles, ConvPlan.tilesPerProduct) = saved
        try gradcheck("unfold", [r([1, 2, 4, 4])]) { try $0[0].unfold(Window2d(kernel: (2, 3), stride: (1, 2), padding: (1, 0))) }
    }

    func testPooling() throws {
        // Distinct values so the maximum of each window is unambiguous under ±h.
        let x = try Tensor(shape: [1, 2, 4, 6], values: (0..<48).map { Float(($0 * 37) % 48) / 10 })
        try gradcheck("max_pool2d", [x]) { try $0[0].maxPool2d(kernel: (2, 2)) }
        try gradcheck("max_pool2d 3x3 s2 p1", [x]) { try $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        try gradcheck("avg_pool2d", [r([2, 1, 5, 5])]) { try $0[0].avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        try gradcheck("adaptive_avg_pool2d", [r([1, 2, 5, 7])]) { try $0[0].adaptiveAvgPool2d((2, 3)) }
    }

    func testLinear() throws {
        try gradcheck("linear", [r([4, 3]), r([2, 3]), r([2])]) { try $0[0].linear($0[1], bias: $0[2]) }
        try gradcheck("linear 3-d", [r([2, 2, 3]), r([5, 3])]) { try $0[0].linear($0[1]) }
    }

    func testConvolutionForwardMatchesDirectSum() throws {
        let x = r([1, 2, 4, 4]), w = r([3, 2, 3, 3]), b = r([3])
        let y = try x.conv2d(w, bias: b, stride: (1, 1), padding: (1, 1))
        XCTAssertEqual(y.shape, [1, 3, 4, 4])
        for o in 0..<3 { for i in 0..<4 { for j in 0..<4 {
            var s = b[o]
            for c in 0..<2 { for di in 0..<3 { for dj in 0..<3 {
                let yi = i + di - 1, xj = j + dj - 1
                if yi >= 0 && yi < 4 && xj >= 0 && xj < 4 { s += x[0, c, yi, xj] * w[o, c, di, dj] }
            } } }
            XCTAssertEqual(y[0, o, i, j], s, accuracy: 1e-5)
        } } }
    }

    /// The native convolution (direct kernels for stride 1, per-sample columns otherwise,
    /// samples split over workers) against the composed unfold + matmul form, whose
    /// gradients are the recorded backward used under `createGraph`.
    func testConvolutionPathsAgree() throws {
        let saved = (Parallel.workers, ConvPlan.directMinimumOutput, ConvPlan.columnsPerProduct)
        defer { (Parallel.workers, ConvPlan.directMinimumOutput, ConvPlan.columnsPerProduct) = saved }
        let savedWinograd = (ConvPlan.winogradMinimumChannels, ConvPlan.winogradMinimumTiles, ConvPlan.tilesPerProduct)
        defer { (ConvPlan.winogradMinimumChannels, ConvPlan.winogradMinimumTiles, ConvPlan.tilesPerProduct) = savedWinograd }
        let cases: [(x: [Int], w: [Int], stride: (Int, Int), padding: (Int, Int))] = [
            ([5, 1, 9, 9], [6, 1, 5, 5], (1, 1), (2, 2)),      // LeNet-5's first layer
            ([4, 6, 7, 8], [16, 6, 5, 5], (1, 1), (0, 0)),
            ([3, 3, 6, 5], [7, 3, 3, 2], (1, 1), (1, 2)),      // uneven kernel and padding
            ([2, 2, 5, 5], [3, 2, 1, 1], (1, 1), (0, 0)),
            ([3, 4, 7, 7], [5, 4, 3, 3], (2, 2), (1, 1)),      // strided: the column path
            ([3, 4, 7, 6], [5, 4, 3, 3], (1, 1), (1, 1)),      // 3x3 "same", odd height
            ([2, 3, 1, 1], [2, 3, 3, 3], (1, 1), (1, 1)),      // a 1x1 image
            ([5, 8, 6, 8], [16, 8, 3, 3], (1, 1), (1, 1)),     // 3x3 "same" on even maps: Winograd where on
            ([7, 16, 2, 2], [8, 16, 3, 3], (1, 1), (1, 1)),    // one tile a sample
        ]
        // The column path by groups of samples (a whole chunk, or remainders) and one at a time.
        // The direct kernels with and without AVX-512 (where the processor has it).
        let wide512 = lk_wide512()
        defer { lk_set_wide512(wide512) }
        // Winograd on (every 3x3 "same" layer on even maps) by groups of 1, 3 and all samples.
        for (workers, minimum, columns, avx512, tiles) in [(1, 0, 512, true, 0), (3, 0, 512, true, 0), (1, 0, 512, false, 0), (3, 0, 512, false, 0),
                                                           (1, Int.max, 512, true, 0), (3, Int.max, 512, true, 0), (3, Int.max, 1, true, 0),
                                                           (1, 0, 512, true, 1), (2, 0, 512, true, 36), (1, 0, 512, true, 1000)] {
            (Parallel.workers, ConvPlan.directMinimumOutput, ConvPlan.columnsPerProduct) = (workers, minimum, columns)
            (ConvPlan.winogradMinimumChannels, ConvPlan.winogradMinimumTiles, ConvPlan.tilesPerProduct) = tiles == 0 ? savedWinograd : (1, 1, tiles)
            lk_set_wide512(avx512 ? 1 : 0)
            for (xs, ws, stride, padding) in cases {
                let label = "x \(xs) w \(ws) stride \(stride) padding \(padding), \(workers) workers, \(minimum == 0 ? "direct\(avx512 && wide512 != 0 ? " AVX-512" : "")" : "columns by \(columns)")\(tiles > 0 ? ", Winograd by \(tiles) tiles" : "")"
                let x = r(xs), w = r(ws), b = r([ws[0]])
                for t in [x, w, b] { t.requiresGrad = true }
                let y = try x.conv2d(w, bias: b, stride: stride, padding: padding)
                let win = Window2d(kernel: (ws[2], ws[3]), stride: stride, padding: padding)
                let (oh, ow) = win.outputSize(xs[2], xs[3])
                let composed = try w.reshape([ws[0], -1]).matmul(x.unfold(win)).view([ws[0], xs[0], oh, ow])
                    .permute([1, 0, 2, 3]).add(b.view([1, ws[0], 1, 1]))
                XCTAssertLessThan(try y.sub(composed).abs().max().item(), 1e-4, label)
                let seed = r(y.shape)
                let fast = try y.gradients(wrt: [x, w, b], seed: seed)
                let recorded = try y.gradients(wrt: [x, w, b], seed: seed, createGraph: true)
                for (name, (f, c)) in zip(["input", "weight", "bias"], zip(fast, recorded)) {
                    XCTAssertLessThan(try f.sub(c).abs().max().item(), 1e-4, "\(name) gradient, \(label)")
                }
            }
        }
    }

    func testPoolingValues() throws {
        let x = try Tensor(shape: [1, 1, 2, 4], values: [1, 5, 2, 0, 3, -1, 7, 4])
        XCTAssertEqual(try x.maxPool2d(kernel: (2, 2)).toArray(), [5, 7])
        XCTAssertEqual(try x.avgPool2d(kernel: (2, 2)).toArray(), [2, 3.25])
        // PyTorch's adaptive bins for 4 → 3: [0,2), [1,3), [2,4).
        XCTAssertEqual(try x.adaptiveAvgPool2d((1, 3)).toArray(), [2, 3.25, 3.25])
        let nan = try Tensor(shape: [1, 1, 2, 2], values: [1, .nan, 2, 3])
        XCTAssertTrue(try nan.maxPool2d(kernel: (2, 2)).toArray()[0].isNaN, "NaN propagates like PyTorch")
    }

    func testConvolutionDoubleBackward() throws {
        // d/dw of (∂L/∂x · v) against finite differences of ∂L/∂x · v.
        let x = r([1, 1, 4, 4]), w = r([2, 1, 3, 3]), v = r([1, 1, 4, 4])
        if let m = try GradCheck.check([w], { ws in
            x.requiresGrad = true
            let loss = try x.conv2d(ws[0], padding: (1, 1)).maxPool2d(kernel: (2, 2)).pow(2).sum()
            let gx = try loss.gradients(wrt: [x], createGraph: true)[0]
            return try gx.mul(v).sum()
        }) { XCTFail("conv double backward: \(m)") }
    }

    func testShapeErrors() {
        XCTAssertThrowsError(try r([1, 3, 4, 4]).conv2d(r([2, 2, 3, 3]))) { e in
            XCTAssertTrue("\(e)".contains("conv2d: input [1,3,4,4] does not match weight [2,2,3,3]"), "\(e)")
        }
        XCTAssertThrowsError(try r([1, 1, 2, 2]).conv2d(r([1, 1, 3, 3]))) { e in
            XCTAssertTrue("\(e)".contains("does not fit"), "\(e)")
        }
        XCTAssertThrowsError(try r([3, 4]).linear(r([2, 5]))) { e in
            XCTAssertTrue("\(e)".contains("linear: input [3,4] does not match weight [2,5]"), "\(e)")
        }
    }
}

import LopperCore

/// What a module's outputs (and their gradients) looked like over the batches run while
/// capturing, reduced per channel as they go so that no batch is kept: dimension 1 of an
/// output `[N, C, …]` is the channel (a Linear's neuron), the rest are positions.
public final class CapturedStatistics {
    /// Samples and calls seen.
    public private(set) var samples = 0, calls = 0
    /// Per channel: Σ a, Σ a², count of a == 0, count of a ≤ 0, over samples and positions.
    public private(set) var sum: [Double] = [], sumOfSquares: [Double] = []
    public private(set) var zeros: [Double] = [], nonPositive: [Double] = []
    /// Values per channel seen (samples × positions).
    public private(set) var values = 0
    /// Per input feature (dimension 1 of the input): Σ x² (Wanda's ‖X‖₂ is its root).
    public private(set) var inputSumOfSquares: [Double] = []
    /// Gradients: samples seen, per channel Σₙ (Σ_positions a·g)² (Theis et al.'s Fisher
    /// sum), Σₙ |mean_positions a·g| (Molchanov et al.'s Taylor) and Σ g².
    public private(set) var gradientSamples = 0
    public private(set) var fisherSum: [Double] = [], taylorSum: [Double] = [], gradientSumOfSquares: [Double] = []
    /// The last batch's input, output and output gradient, when asked to keep them.
    public internal(set) var lastInput: Tensor?, lastOutput: Tensor?, lastGradient: Tensor?

    /// Channels (0 before the first call).
    public var channels: Int { sum.count }

    /// (N, C, positions) of a `[N, C, …]` tensor; a 1-d tensor is one sample of C.
    static func layout(_ t: Tensor, op: String) throws -> (Int, Int, Int) {
        switch t.rank {
        case 0: throw TensorError("\(op): cannot take channels of a 0-d output")
        case 1: return (1, t.shape[0], 1)
        default: return (t.shape[0], t.shape[1], Shape.count(Array(t.shape[2...])))
        }
    }

    func addOutput(_ y: Tensor, name: String) throws {
        let (n, c, s) = try CapturedStatistics.layout(y, op: "capture \(name)")
        if sum.isEmpty {
            sum = Array(repeating: 0, count: c); sumOfSquares = sum; zeros = sum; nonPositive = sum
        }
        guard c == channels else { throw TensorError("capture \(name): the output has \(c) channels, earlier ones \(channels)") }
        let a = try y.contiguous()
        for i in 0..<n {
            for ch in 0..<c {
                let p = a.data + (i * c + ch) * s
                var s1: Double = 0, s2: Double = 0, z = 0, np = 0
                for k in 0..<s {
                    let v = p[k]
                    s1 += Double(v); s2 += Double(v * v)
                    if v == 0 { z += 1 }
                    if v <= 0 { np += 1 }
                }
                sum[ch] += s1; sumOfSquares[ch] += s2; zeros[ch] += Double(z); nonPositive[ch] += Double(np)
            }
        }
        samples += n
        values += n * s
        calls += 1
    }

    func addInput(_ x: Tensor, name: String) throws {
        guard x.rank >= 1 else { return }
        let (n, c, s) = try CapturedStatistics.layout(x, op: "capture \(name)")
        if inputSumOfSquares.isEmpty { inputSumOfSquares = Array(repeating: 0, count: c) }
        guard c == inputSumOfSquares.count else { throw TensorError("capture \(name): the input has \(c) features, earlier ones \(inputSumOfSquares.count)") }
        let a = try x.contiguous()
        for i in 0..<n {
            for ch in 0..<c {
                let p = a.data + (i * c + ch) * s
                var s2: Double = 0
                for k in 0..<s { s2 += Double(p[k] * p[k]) }
                inputSumOfSquares[ch] += s2
            }
        }
    }

    func addGradient(_ g: Tensor, output y: Tensor, name: String) throws {
        guard g.shape == y.shape else { throw TensorError("capture \(name): a gradient \(describeShape(g.shape)) for an output \(describeShape(y.shape))") }
        let (n, c, s) = try CapturedStatistics.layout(y, op: "capture \(name)")
        if fisherSum.isEmpty { fisherSum = Array(repeating: 0, count: c); taylorSum = fisherSum; gradientSumOfSquares = fisherSum }
        guard c == fisherSum.count else { throw TensorError("capture \(name): the gradient has \(c) channels, earlier ones \(fisherSum.count)") }
        let a = try y.contiguous(), d = try g.contiguous()
        for i in 0..<n {
            for ch in 0..<c {
                let at = (i * c + ch) * s
                var ag: Double = 0, gg: Double = 0
                for k in 0..<s {
                    ag += Double(a.data[at + k]) * Double(d.data[at + k])
                    gg += Double(d.data[at + k]) * Double(d.data[at + k])
                }
                fisherSum[ch] += ag * ag
                taylorSum[ch] += Swift.abs(ag / Double(s))
                gradientSumOfSquares[ch] += gg
            }
        }
        gradientSamples += n
    }

    /// Per channel mean, mean of squares, fraction of zeros and of values ≤ 0.
    public var mean: [Double] { sum.map { $0 / Double(max(values, 1)) } }
    public var meanOfSquares: [Double] { sumOfSquares.map { $0 / Double(max(values, 1)) } }
    public var zeroFraction: [Double] { zeros.map { $0 / Double(max(values, 1)) } }
    public var nonPositiveFraction: [Double] { nonPositive.map { $0 / Double(max(values, 1)) } }
    /// ‖X_j‖₂ over every sample and position, per input feature.
    public var inputNorm: [Double] { inputSumOfSquares.map { $0.squareRoot() } }
    /// Theis et al. 2018: Δ = 1/(2N) Σₙ (Σ_positions a·∂L/∂a)².
    public var fisher: [Double] { fisherSum.map { $0 / Double(2 * max(gradientSamples, 1)) } }
    /// Molchanov et al. 2017: the mean over samples of |mean over positions of a·∂L/∂a|.
    public var taylor: [Double] { taylorSum.map { $0 / Double(max(gradientSamples, 1)) } }
}

/// Hooks on some modules of a network for the length of one body of code, reducing what
/// they see into `CapturedStatistics` (`lp.nn.capture`).
public enum Capture {
    /// Runs `body` with hooks on `modules` and returns their statistics, in order. With
    /// `gradients`, the gradients of a backward run in `body` are reduced too (paired with
    /// the output of the same call); with `keep`, the last batch's tensors are kept.
    public static func run(_ modules: [(String, Module)], gradients: Bool = true, keep: Bool = false,
                           _ body: () throws -> Void) throws -> [CapturedStatistics] {
        let stats = modules.map { _ in CapturedStatistics() }
        var removals: [() -> Void] = []
        defer { for r in removals { r() } }
        for ((name, m), st) in zip(modules, stats) {
            let hooks = m.hookSet()
            // Outputs waiting for their gradient; a body that runs forwards without backward
            // must not make this grow without end.
            var pending: [Tensor] = []
            let f = hooks.onForward { _, x, y in
                try st.addInput(x, name: name)
                try st.addOutput(y, name: name)
                if keep { st.lastInput = x.detach(); st.lastOutput = y.detach() }
                if gradients && y.requiresGrad {
                    pending.append(y.detach())
                    if pending.count > 8 { pending.removeFirst() }
                }
                return nil
            }
            removals.append { hooks.remove(f) }
            guard gradients else { continue }
            let b = hooks.onBackward { _, gy, _ in
                guard let y = pending.popLast() else { return nil }
                try st.addGradient(gy, output: y, name: name)
                if keep { st.lastGradient = gy.detach() }
                return nil
            }
            removals.append { hooks.remove(b) }
        }
        try body()
        return stats
    }
}

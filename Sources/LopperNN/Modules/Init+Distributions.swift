import LopperCore

/// `lp.nn.init`'s fills beyond the fan-based initialisers: plain distributions, constants,
/// orthogonal matrices (Saxe et al. 2014), and a gain for kaiming/xavier — what an Edge of
/// Chaos initialisation (Hayou et al. 2021) sets by hand.
public struct InitSpec {
    public var mean: Double = 0, std: Double = 1, a: Double = 0, b: Double = 1
    public var value: Double? = nil, gain: Double? = nil
    public init() {}

    /// The names `fill(_:_:)` takes, besides `Initializer.names`.
    public static let names = ["normal", "uniform", "constant", "zeros", "ones", "orthogonal"]

    /// Fills `t` in place by `name`, from `generator`.
    public func fill(_ t: Tensor, _ name: String, generator g: RandomGenerator = .shared, op: String = "init") throws {
        let fanBased = Initializer(rawValue: name) != nil || name.hasPrefix("glorot_")
        if fanBased || name == "orthogonal" {
            guard t.rank >= 2 else { throw TensorError("\(op): '\(name)' needs a weight with at least 2 dimensions, got \(describeShape(t.shape))") }
        }
        if let gain, !(gain.isFinite && gain > 0) { throw TensorError("\(op): gain must be a positive number, got \(gain)") }
        switch name {
        case "normal":
            guard std.isFinite, std >= 0, mean.isFinite else { throw TensorError("\(op): normal needs a finite mean and std ≥ 0, got mean \(mean), std \(std)") }
            t.apply_ { _ in Float(mean + std * g.normal()) }
        case "uniform":
            guard a.isFinite, b.isFinite, a <= b else { throw TensorError("\(op): uniform needs finite a ≤ b, got a \(a), b \(b)") }
            t.apply_ { _ in Float(a + (b - a) * Double(g.uniformFloat())) }
        case "constant":
            guard let value else { throw TensorError("\(op): constant needs value =") }
            t.apply_ { _ in Float(value) }
        case "zeros": t.apply_ { _ in 0 }
        case "ones": t.apply_ { _ in 1 }
        case "orthogonal": try orthogonal(t, gain: gain ?? 1, g)
        default:
            let kind = try Initializer.named(name, op: op)
            guard let gain else { kind.fill(t, generator: g); return }
            let (fanIn, fanOut) = Initializer.fans(t.shape)
            switch kind {
            case .kaimingNormal: t.apply_ { _ in Float(gain / Double(fanIn).squareRoot() * g.normal()) }
            case .kaimingUniform: uniform(t, gain * (3 / Double(fanIn)).squareRoot(), g)
            case .xavierNormal: t.apply_ { _ in Float(gain * (2 / Double(fanIn + fanOut)).squareRoot() * g.normal()) }
            case .xavierUniform: uniform(t, gain * (6 / Double(fanIn + fanOut)).squareRoot(), g)
            case .pytorch: throw TensorError("\(op): 'pytorch' takes no gain (it is U(±1/√fan_in)); use kaiming or xavier")
            }
        }
    }

    private func uniform(_ t: Tensor, _ bound: Double, _ g: RandomGenerator) {
        t.apply_ { _ in Float((2 * Double(g.uniformFloat()) - 1) * bound) }
    }

    /// rows = shape[0], columns = the rest: orthonormal rows (or columns, when taller than
    /// wide) times `gain`, by Gram–Schmidt on a Gaussian matrix in Double, which is QR with
    /// R's diagonal positive, as PyTorch's `orthogonal_` makes it.
    private func orthogonal(_ t: Tensor, gain: Double, _ g: RandomGenerator) throws {
        let rows = t.shape[0], cols = t.count / max(1, rows)
        let tall = max(rows, cols), wide = min(rows, cols)
        // Gram–Schmidt costs wide²·tall multiply-adds: bounded so that a call ends in seconds.
        guard Double(tall) * Double(wide) * Double(wide) <= 2e10 else {
            throw TensorError("orthogonal: a \(rows)x\(cols) matrix is too large (the smaller side squared times the larger must be at most 2·10^10)")
        }
        // q: `wide` vectors of length `tall`, made orthonormal one after another.
        var q = (0..<(tall * wide)).map { _ in g.normal() }
        for j in 0..<wide {
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<tall { dot += q[j * tall + i] * q[k * tall + i] }
                for i in 0..<tall { q[j * tall + i] -= dot * q[k * tall + i] }
            }
            var norm = 0.0
            for i in 0..<tall { norm += q[j * tall + i] * q[j * tall + i] }
            norm = norm.squareRoot()
            guard norm > 1e-12 else { throw TensorError("orthogonal: a degenerate draw; try again") }
            for i in 0..<tall { q[j * tall + i] /= norm }
        }
        // Entry (r, c) of the [rows, cols] matrix: vector r, element c when rows ≤ cols;
        // else vector c, element r.
        var values = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows { for c in 0..<cols {
            values[r * cols + c] = Float(gain * (rows <= cols ? q[r * tall + c] : q[c * tall + r]))
        } }
        var k = 0
        t.apply_ { _ in defer { k += 1 }; return values[k] }
    }
}

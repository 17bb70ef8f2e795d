import Foundation
import LopperCore

/// Weight initialisers, all drawing from a seedable generator (`lp.manual_seed`).
/// Fans follow PyTorch: fan_in = in_features (or C·kh·kw), fan_out = out_features (O·kh·kw).
public enum Initializer: String, CaseIterable {
    /// PyTorch's default for Linear and Conv2d: kaiming_uniform(a = √5), which is
    /// U(−1/√fan_in, 1/√fan_in); the bias is U(−1/√fan_in, 1/√fan_in) too.
    case pytorch
    /// He et al. 2015, ReLU gain √2, fan_in mode.
    case kaimingNormal = "kaiming_normal"
    case kaimingUniform = "kaiming_uniform"
    /// Glorot & Bengio 2010 (Frankle & Carbin's choice for LeNet), gain 1.
    case xavierNormal = "xavier_normal"
    case xavierUniform = "xavier_uniform"

    /// Names accepted from scripts.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public static func named(_ s: String, op: String) throws -> Initializer {
        if let i = Initializer(rawValue: s) { return i }
        if s == "glorot_normal" { return .xavierNormal }
        if s == "glorot_uniform" { return .xavierUniform }
        throw TensorError("\(op): unknown initialiser '\(s)' (known: \(names), glorot_normal, glorot_uniform)")
    }

    /// (fan_in, fan_out) of a weight of shape [out, in, k…].
    public static func fans(_ shape: [Int]) -> (Int, Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Fills `weight` in place.
    public func fill(_ weight: Tensor, generator: RandomGenerator = .shared) {
        let (fanIn, fanOut) = Initializer.fans(weight.shape)
        switch self {
        case .pytorch: Initializer.uniform(weight, bound: 1 / Float(fanIn).squareRoot(), generator)
        case .kaimingNormal: Initializer.normal(weight, std: (2 / Float(fanIn)).squareRoot(), generator)
        case .kaimingUniform: Initializer.uniform(weight, bound: (6 / Float(fanIn)).squareRoot(), generator)
        case .xavierNormal: Initializer.normal(weight, std: (2 / Float(fanIn + fanOut)).squareRoot(), generator)
        case .xavierUniform: Initializer.uniform(weight, bound: (6 / Float(fanIn + fanOut)).squareRoot(), generator)
        }
    }

    /// Fills a bias of a layer whose weight is `weight` with PyTorch's default
    /// U(±1/√fan_in), whatever the weights' initialiser: OpenLTH and PyTorch code apply
    /// `xavier_normal_`/`kaiming_normal_` to weights only, so the same recipe starts from
    /// the same kind of network in both.
    public func fillBias(_ bias: Tensor, weight: Tensor, generator: RandomGenerator = .shared) {
        Initializer.uniform(bias, bound: 1 / Float(Initializer.fans(weight.shape).0).squareRoot(), generator)
    }

    static func uniform(_ t: Tensor, bound: Float, _ g: RandomGenerator) {
        t.apply_ { _ in (2 * g.uniformFloat() - 1) * bound }
    }

    static func normal(_ t: Tensor, std: Float, _ g: RandomGenerator) {
        t.apply_ { _ in Float(g.normal()) * std }
    }
}

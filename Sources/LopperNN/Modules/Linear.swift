import LopperCore

/// y = x·Wᵀ + b, with W of shape [out, in] as in PyTorch.
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias hasBias: Bool = true, init initializer: Initializer = .pytorch) throws {
        guard inFeatures > 0, outFeatures > 0 else {
            throw TensorError("Linear: sizes must be positive, got \(inFeatures) → \(outFeatures)")
        }
        weight = try Tensor(shape: [outFeatures, inFeatures])
        initializer.fill(weight)
        bias = hasBias ? try Tensor(shape: [outFeatures]) : nil
        super.init(kind: "Linear")
        addParameter("weight", weight)
        if let bias { initializer.fillBias(bias, weight: weight); addParameter("bias", bias) }
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }
    public override var summary: String { "Linear(\(inFeatures), \(outFeatures)\(bias == nil ? ", bias=false" : ""))" }

    public override func copyStructure() throws -> Module { try Linear(inFeatures, outFeatures, bias: bias != nil, init: .pytorch) }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw TensorError("Linear: expected an input with \(inFeatures) features in its last dimension, got \(describeShape(x.shape))")
        }
        return try x.linear(weight, bias: bias)
    }
}

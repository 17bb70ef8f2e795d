import LopperCore

/// Zeroes each element with probability p in training and scales the rest by 1/(1−p);
/// the identity in evaluation. Draws from the shared seeded generator.
public final class Dropout: Module {
    public let p: Float

    public init(_ p: Float = 0.5) throws {
        guard p >= 0, p < 1 else { throw TensorError("Dropout: p must be in [0, 1), got \(p)") }
        self.p = p
        super.init(kind: "Dropout")
    }

    public override var summary: String { "Dropout(\(p))" }

    public override func copyStructure() throws -> Module { try Dropout(p) }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard training, p > 0 else { return x }
        let g = RandomGenerator.shared, keep = 1 - p, scale = 1 / keep
        let mask = try Tensor(shape: x.shape)
        mask.apply_ { _ in g.uniformFloat() < keep ? scale : 0 }
        return try x.mul(mask)
    }
}

import LopperCore

/// A parameter-free layer applying one tensor function (ReLU, Tanh, Sigmoid, Identity,
/// Flatten, Softmax…).
public final class Elementwise: Module {
    let body: (Tensor) throws -> Tensor

    public init(_ kind: String, _ body: @escaping (Tensor) throws -> Tensor) {
        self.body = body
        super.init(kind: kind)
    }

    public override func copyStructure() throws -> Module { Elementwise(kind, body) }

    public override func forward(_ x: Tensor) throws -> Tensor { try body(x) }

    public static func relu() throws -> Elementwise { Elementwise("ReLU") { try $0.relu() } }
    public static func tanh() throws -> Elementwise { Elementwise("Tanh") { try $0.tanh() } }
    public static func sigmoid() throws -> Elementwise { Elementwise("Sigmoid") { try $0.sigmoid() } }
    public static func identity() -> Elementwise { Elementwise("Identity") { $0 } }
    public static func leakyReLU(_ slope: Float = 0.01) -> Elementwise {
        Elementwise("LeakyReLU(\(slope))") { x in try x.relu().sub(x.neg().relu().mul(slope)) }
    }
    /// Keeps the batch dimension, flattens the rest: [N, …] → [N, ∏…].
    public static func flatten() -> Elementwise {
        Elementwise("Flatten") { x in
            guard x.rank >= 1 else { throw TensorError("Flatten: expected at least one dimension, got a 0-d tensor") }
            return try x.reshape([x.shape[0], -1])
        }
    }
}

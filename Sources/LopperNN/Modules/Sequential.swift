import LopperCore

/// Children applied in order. Unnamed children are named "0", "1", … as in PyTorch's
/// nn.Sequential, so state_dict names agree.
public final class Sequential: Module {
    public init(_ layers: [(String?, Module)], kind: String = "Sequential") {
        super.init(kind: kind)
        for (i, (name, m)) in layers.enumerated() { addChild(name ?? String(i), m) }
    }

    public convenience init(_ layers: [Module]) { self.init(layers.map { (nil, $0) }) }

    public override func copyStructure() throws -> Module { Sequential([], kind: kind) }

    public override func forward(_ x: Tensor) throws -> Tensor {
        var y = x
        for (_, m) in children { y = try m(y) }
        return y
    }
}

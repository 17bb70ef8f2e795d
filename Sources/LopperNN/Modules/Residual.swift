import LopperCore

/// y = scale · body(x) + shortcut(x) (the identity when there is no shortcut), then an
/// optional ReLU. `scale` = 1/√L gives Hayou et al.'s Stable ResNet.
public final class Residual: Module {
    public let scale: Float
    public let activate: Bool

    public init(body: Module, shortcut: Module? = nil, scale: Float = 1, relu: Bool = false) {
        self.scale = scale
        self.activate = relu
        super.init(kind: "Residual")
        addChild("body", body)
        if let shortcut { addChild("shortcut", shortcut) }
    }

    public override var summary: String { scale == 1 ? "Residual" : "Residual(scale=\(scale))" }

    public override func copyStructure() throws -> Module {
        Residual(body: Elementwise.identity(), shortcut: children.count > 1 ? Elementwise.identity() : nil, scale: scale, relu: activate)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let kids = children
        var y = try kids[0].1(x)
        if scale != 1 { y = try y.mul(scale) }
        let skip = kids.count > 1 ? try kids[1].1(x) : x
        guard y.shape == skip.shape else {
            throw TensorError("Residual: the body gives \(describeShape(y.shape)) but the shortcut gives \(describeShape(skip.shape))")
        }
        y = try y.add(skip)
        return activate ? try y.relu() : y
    }
}

/// The CIFAR ResNet basic block (He et al. 2016), named as OpenLTH names it:
/// conv1, bn1, conv2, bn2 and, when the shape changes, shortcut.0 (1x1 conv) and
/// shortcut.1 (batch norm). relu(scale · bn2(conv2(relu(bn1(conv1 x)))) + shortcut x).
public final class BasicBlock: Module {
    public let scale: Float

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, scale: Float = 1,
                init initializer: Initializer = .kaimingNormal) throws {
        self.scale = scale
        super.init(kind: "BasicBlock")
        addChild("conv1", try Conv2d(inChannels, outChannels, kernel: (3, 3), stride: (stride, stride), padding: (1, 1), bias: false, init: initializer))
        addChild("bn1", try BatchNorm(outChannels, spatial: true))
        addChild("conv2", try Conv2d(outChannels, outChannels, kernel: (3, 3), padding: (1, 1), bias: false, init: initializer))
        addChild("bn2", try BatchNorm(outChannels, spatial: true))
        if stride != 1 || inChannels != outChannels {
            addChild("shortcut", Sequential([
                try Conv2d(inChannels, outChannels, kernel: (1, 1), stride: (stride, stride), bias: false, init: initializer),
                try BatchNorm(outChannels, spatial: true),
            ]))
        }
    }

    /// The block's children are put in by `clone`, so the shell is built without them.
    init(scale: Float) {
        self.scale = scale
        super.init(kind: "BasicBlock")
    }

    public override func copyStructure() throws -> Module { BasicBlock(scale: scale) }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let kids = children
        var y = try kids[1].1(kids[0].1(x)).relu()
        y = try kids[3].1(kids[2].1(y))
        if scale != 1 { y = try y.mul(scale) }
        let skip = kids.count > 4 ? try kids[4].1(x) : x
        return try y.add(skip).relu()
    }
}

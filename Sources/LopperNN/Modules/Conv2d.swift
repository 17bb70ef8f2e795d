import LopperCore

/// 2-d convolution, weight [out, in, kh, kw] (groups = 1); see `Tensor.conv2d`.
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    /// Output height and width of the last forward pass (statistics count MACs with it).
    public private(set) var lastOutputSize: (Int, Int)?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), bias hasBias: Bool = true, init initializer: Initializer = .pytorch) throws {
        guard inChannels > 0, outChannels > 0, kernel.0 > 0, kernel.1 > 0 else {
            throw TensorError("Conv2d: channels and kernel must be positive, got \(inChannels) → \(outChannels), kernel \(kernel.0)x\(kernel.1)")
        }
        guard stride.0 > 0, stride.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
            throw TensorError("Conv2d: stride must be positive and padding non-negative, got stride \(stride.0)x\(stride.1), padding \(padding.0)x\(padding.1)")
        }
        weight = try Tensor(shape: [outChannels, inChannels, kernel.0, kernel.1])
        initializer.fill(weight)
        bias = hasBias ? try Tensor(shape: [outChannels]) : nil
        self.stride = stride
        self.padding = padding
        super.init(kind: "Conv2d")
        addParameter("weight", weight)
        if let bias { initializer.fillBias(bias, weight: weight); addParameter("bias", bias) }
    }

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }
    public override var summary: String {
        "Conv2d(\(inChannels), \(outChannels), kernel=\(weight.shape[2])x\(weight.shape[3]), stride=\(stride.0), padding=\(padding.0)\(bias == nil ? ", bias=false" : ""))"
    }

    public override func copyStructure() throws -> Module {
        try Conv2d(inChannels, outChannels, kernel: (weight.shape[2], weight.shape[3]), stride: stride, padding: padding,
                   bias: bias != nil, init: .pytorch)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let y = try x.conv2d(weight, bias: bias, stride: stride, padding: padding)
        lastOutputSize = (y.shape[2], y.shape[3])
        return y
    }
}

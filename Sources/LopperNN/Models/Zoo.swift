import LopperCore

/// The model zoo: the networks of the pruning literature, each a named `Sequential` whose
/// parameter names follow the reference implementations (OpenLTH for LeNet, Conv-n and the
/// CIFAR ResNet; torchvision for VGG features).
public enum Zoo {
    /// Options shared by the zoo's builders.
    public struct Options {
        public var classes = 10
        /// Input channels and spatial size (Fashion-MNIST: 1, 28x28; CIFAR: 3, 32x32).
        public var channels = 1
        public var size = 28
        /// Width multiplier (VGG, ResNet) or base width.
        public var width: Double = 1
        public var batchNorm = true
        /// Initialiser for weights; nil uses each model's documented default.
        public var initializer: Initializer?
        /// Residual branch scale for Stable ResNet (1/√L); 1 is the standard ResNet.
        public var residualScale: Float = 1
        public init() {}
    }

    public static let names = ["lenet_300_100", "lenet5", "conv2", "conv4", "conv6", "vgg11", "vgg16", "vgg19", "resnet20"]

    /// Builds a model by name ("resnet32" and other 6n+2 depths work too).
    public static func build(_ name: String, _ o: Options = Options()) throws -> Module {
        for (key, v) in [("classes", o.classes), ("channels", o.channels), ("size", o.size)] where v < 1 || v > 1 << 30 {
            throw TensorError("models: \(key) must be between 1 and 2^30, got \(v)")
        }
        guard o.width > 0, o.width <= 1024 else { throw TensorError("models: width must be in (0, 1024], got \(o.width)") }
        try Shape.checkedCount([o.channels, o.size, o.size], op: "models")
        let net = try construct(name, o)
        net.inputShape = [o.channels, o.size, o.size]
        return net
    }

    static func construct(_ name: String, _ o: Options) throws -> Module {
        switch name {
        case "lenet_300_100": return try lenet300100(o)
        case "lenet5": return try lenet5(o)
        case "conv2": return try convNet(blocks: 1, o)
        case "conv4": return try convNet(blocks: 2, o)
        case "conv6": return try convNet(blocks: 3, o)
        case "vgg11": return try vgg(11, o)
        case "vgg13": return try vgg(13, o)
        case "vgg16": return try vgg(16, o)
        case "vgg19": return try vgg(19, o)
        default:
            if name.hasPrefix("resnet"), let depth = Int(name.dropFirst(6)) {
                // ImageNet's ResNet-18/34/50 are not CIFAR ResNets: name the zoo, not just the rule.
                guard depth >= 8, depth <= 2000, (depth - 2) % 6 == 0 else {
                    throw TensorError("models: unknown model '\(name)': the zoo's ResNets are He et al.'s CIFAR ResNets of depth 6n+2 (resnet20, resnet32, resnet44, resnet56, resnet110); known: \(names.joined(separator: ", "))")
                }
                return try resnet(depth: depth, o)
            }
            throw TensorError("models: unknown model '\(name)' (known: \(names.joined(separator: ", ")))")
        }
    }

    /// LeNet-300-100 (LeCun et al. 1998; Frankle & Carbin's MNIST network): 784-300-100-10,
    /// ReLU. 266,610 parameters. Default init: PyTorch's.
    public static func lenet300100(_ o: Options) throws -> Module {
        let i = o.initializer ?? .pytorch
        let inputs = o.channels * o.size * o.size
        return Sequential([
            ("flatten", Elementwise.flatten()),
            ("fc1", try Linear(inputs, 300, init: i)), ("relu1", try Elementwise.relu()),
            ("fc2", try Linear(300, 100, init: i)), ("relu2", try Elementwise.relu()),
            ("fc3", try Linear(100, o.classes, init: i)),
        ], kind: "LeNet-300-100")
    }

    /// LeNet-5: conv 6@5x5 (padding 2), max pool 2, conv 16@5x5, max pool 2, fc 120-84-10,
    /// ReLU. 61,706 parameters on 28x28 inputs.
    public static func lenet5(_ o: Options) throws -> Module {
        let i = o.initializer ?? .pytorch
        let side = ((o.size + 4 - 4) / 2 - 4) / 2
        guard side > 0 else { throw TensorError("lenet5: inputs of \(o.size)x\(o.size) are too small (need at least 12)") }
        return Sequential([
            ("conv1", try Conv2d(o.channels, 6, kernel: (5, 5), padding: (2, 2), init: i)), ("relu1", try Elementwise.relu()),
            ("pool1", Pool2d.max(2)),
            ("conv2", try Conv2d(6, 16, kernel: (5, 5), init: i)), ("relu2", try Elementwise.relu()),
            ("pool2", Pool2d.max(2)),
            ("flatten", Elementwise.flatten()),
            ("fc1", try Linear(16 * side * side, 120, init: i)), ("relu3", try Elementwise.relu()),
            ("fc2", try Linear(120, 84, init: i)), ("relu4", try Elementwise.relu()),
            ("fc3", try Linear(84, o.classes, init: i)),
        ], kind: "LeNet-5")
    }

    /// Frankle & Carbin's Conv-2/4/6: `blocks` of two 3x3 convs (64, 128, 256 channels)
    /// and a 2x2 max pool, then fc 256-256-classes. Any input size divisible by 2^blocks.
    /// Conv-2 on CIFAR-10 has 4.3M parameters, Conv-4 2.4M, Conv-6 1.7M. Default init:
    /// Glorot normal, as in the paper. `width` scales every layer's width (0.25: 16-32-64
    /// channels, fc 64-64), for quick experiments.
    public static func convNet(blocks: Int, _ o: Options) throws -> Module {
        let i = o.initializer ?? .xavierNormal
        var layers: [(String?, Module)] = []
        var channels = o.channels, side = o.size, n = 0
        for b in 0..<blocks {
            let width = Swift.max(1, Int((Double(64 << b) * o.width).rounded()))
            for _ in 0..<2 {
                n += 1
                layers.append(("conv\(n)", try Conv2d(channels, width, kernel: (3, 3), padding: (1, 1), init: i)))
                layers.append(("relu\(n)", try Elementwise.relu()))
                channels = width
            }
            layers.append(("pool\(b + 1)", Pool2d.max(2)))
            side /= 2
        }
        guard side > 0 else { throw TensorError("conv\(2 * blocks): inputs of \(o.size)x\(o.size) are too small for \(blocks) pooling steps") }
        let hidden = Swift.max(1, Int((256 * o.width).rounded()))
        layers += [
            ("flatten", Elementwise.flatten()),
            ("fc1", try Linear(channels * side * side, hidden, init: i)), ("relu_fc1", try Elementwise.relu()),
            ("fc2", try Linear(hidden, hidden, init: i)), ("relu_fc2", try Elementwise.relu()),
            ("fc3", try Linear(hidden, o.classes, init: i)),
        ]
        return Sequential(layers, kind: "Conv-\(2 * blocks)")
    }

    static let vggPlans: [Int: [Int]] = [
        11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        13: [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        19: [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
    ]

    /// VGG-11/13/16/19 for small images (as in Frankle & Carbin and OpenLTH): 3x3 convs
    /// (0 in the plan = 2x2 max pool), optional batch norm, global average pool, one fc
    /// layer. `width` scales every channel count. VGG-19 on CIFAR-10: 20.0M parameters.
    /// Default init: Kaiming normal.
    public static func vgg(_ depth: Int, _ o: Options) throws -> Module {
        guard let plan = vggPlans[depth] else { throw TensorError("vgg: depth must be 11, 13, 16 or 19, got \(depth)") }
        let i = o.initializer ?? .kaimingNormal
        var features: [Module] = []
        var channels = o.channels, side = o.size
        for v in plan {
            if v == 0 {
                if side >= 2 { features.append(Pool2d.max(2)); side /= 2 }
                continue
            }
            let width = Swift.max(1, Int((Double(v) * o.width).rounded()))
            features.append(try Conv2d(channels, width, kernel: (3, 3), padding: (1, 1), bias: !o.batchNorm, init: i))
            if o.batchNorm { features.append(try BatchNorm(width, spatial: true)) }
            features.append(try Elementwise.relu())
            channels = width
        }
        return Sequential([
            ("features", Sequential(features)),
            ("pool", Pool2d.adaptiveAverage(1, 1)), ("flatten", Elementwise.flatten()),
            ("fc", try Linear(channels, o.classes, init: i)),
        ], kind: "VGG-\(depth)\(o.batchNorm ? "-BN" : "")")
    }

    /// The CIFAR ResNet of He et al. 2016 (depth 6n+2; ResNet-20: 0.27M parameters at
    /// width 16): conv 3x3, three stages of n basic blocks (16, 32, 64 channels times
    /// `width`), global average pool, fc. Names follow OpenLTH (conv, bn, blocks.k.…, fc).
    public static func resnet(depth: Int, _ o: Options) throws -> Module {
        guard depth >= 8, depth <= 2000, (depth - 2) % 6 == 0 else {
            throw TensorError("resnet: depth must be 6n+2 between 8 and 2000 (20, 32, 44, 56, 110, 1202), got \(depth)")
        }
        let i = o.initializer ?? .kaimingNormal
        let n = (depth - 2) / 6
        let base = Swift.max(1, Int((16 * o.width).rounded()))
        var blocks: [Module] = []
        var channels = base
        for stage in 0..<3 {
            let width = base << stage
            for b in 0..<n {
                blocks.append(try BasicBlock(channels, width, stride: stage > 0 && b == 0 ? 2 : 1, scale: o.residualScale, init: i))
                channels = width
            }
        }
        return Sequential([
            ("conv", try Conv2d(o.channels, base, kernel: (3, 3), padding: (1, 1), bias: false, init: i)),
            ("bn", try BatchNorm(base, spatial: true)), ("relu", try Elementwise.relu()),
            ("blocks", Sequential(blocks)),
            ("pool", Pool2d.adaptiveAverage(1, 1)), ("flatten", Elementwise.flatten()),
            ("fc", try Linear(channels, o.classes, init: i)),
        ], kind: "ResNet-\(depth)")
    }
}

import LopperCore

/// Max, average and adaptive average pooling over [N, C, H, W].
public final class Pool2d: Module {
    let body: (Tensor) throws -> Tensor
    let label: String
    /// What built it: [kernel, stride (0: the kernel), padding], or [h, w] when adaptive.
    public let settings: [Int]

    init(_ kind: String, _ label: String, _ settings: [Int], _ body: @escaping (Tensor) throws -> Tensor) {
        self.body = body
        self.label = label
        self.settings = settings
        super.init(kind: kind)
    }

    public override var summary: String { "\(kind)(\(label))" }
    public override func copyStructure() throws -> Module { Pool2d(kind, label, settings, body) }
    public override func forward(_ x: Tensor) throws -> Tensor { try body(x) }

    public static func max(_ k: Int, stride: Int? = nil, padding: Int = 0) -> Pool2d {
        Pool2d("MaxPool2d", "\(k)", [k, stride ?? 0, padding]) { try $0.maxPool2d(kernel: (k, k), stride: stride.map { ($0, $0) }, padding: (padding, padding)) }
    }
    public static func average(_ k: Int, stride: Int? = nil, padding: Int = 0) -> Pool2d {
        Pool2d("AvgPool2d", "\(k)", [k, stride ?? 0, padding]) { try $0.avgPool2d(kernel: (k, k), stride: stride.map { ($0, $0) }, padding: (padding, padding)) }
    }
    public static func adaptiveAverage(_ h: Int, _ w: Int) -> Pool2d {
        Pool2d("AdaptiveAvgPool2d", "\(h)x\(w)", [h, w]) { try $0.adaptiveAvgPool2d((h, w)) }
    }
}

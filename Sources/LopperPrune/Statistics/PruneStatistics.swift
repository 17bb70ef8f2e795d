import Foundation
import LopperCore
import LopperNN

/// Sizes, non-zeros and multiply-accumulates of a (pruned) network.
public struct PruneStatistics {
    public struct Layer {
        public var name: String
        public var shape: [Int]
        public var parameters: Int
        public var nonzero: Int
        /// Multiply-accumulates per sample, dense and counting only non-zero weights
        /// (nil when a convolution's output size is unknown).
        public var macs: Int?
        public var effectiveMACs: Int?
        public var density: Double { parameters == 0 ? 1 : Double(nonzero) / Double(parameters) }
    }

    public var layers: [Layer]
    /// Every parameter of the network (biases and BatchNorm included).
    public var totalParameters: Int
    public var totalNonzero: Int

    public var prunableParameters: Int { layers.reduce(0) { $0 + $1.parameters } }
    public var prunableNonzero: Int { layers.reduce(0) { $0 + $1.nonzero } }
    public var density: Double { Double(prunableNonzero) / Double(max(prunableParameters, 1)) }
    public var macs: Int? { layers.reduce(0 as Int?) { a, l in l.macs.flatMap { m in a.map { $0 + m } } } }
    public var effectiveMACs: Int? { layers.reduce(0 as Int?) { a, l in l.effectiveMACs.flatMap { m in a.map { $0 + m } } } }

    /// Counts `targets` of `net`. Convolution MACs need each layer's output size: when one
    /// is unknown and the input shape is known, one all-zeros sample is run through.
    public init(_ net: Module, targets: [PrunableTensor]) throws {
        let convs = targets.compactMap { $0.layer as? Conv2d }
        if convs.contains(where: { $0.lastOutputSize == nil }), let shape = net.inputShape {
            _ = try net.evaluating { try Autograd.noGrad { try net(Tensor(filled: 0, shape: [1] + shape)) } }
        }
        layers = try targets.map { t in
            let nz = try PruneStatistics.nonzeros(t.tensor)
            var macs: Int?, eff: Int?
            if t.layer is Linear, t.name.hasSuffix("weight") {
                macs = t.tensor.count; eff = nz
            } else if let c = t.layer as? Conv2d, t.name.hasSuffix("weight"), let (h, w) = c.lastOutputSize {
                macs = t.tensor.count * h * w; eff = nz * h * w
            }
            return Layer(name: t.name, shape: t.tensor.shape, parameters: t.tensor.count, nonzero: nz, macs: macs, effectiveMACs: eff)
        }
        let all = net.parameters()
        totalParameters = all.reduce(0) { $0 + $1.count }
        totalNonzero = try all.reduce(0) { try $0 + PruneStatistics.nonzeros($1) }
    }

    static func nonzeros(_ t: Tensor) throws -> Int {
        let c = try t.contiguous()
        var n = 0
        for i in 0..<c.count where c.data[i] != 0 { n += 1 }
        return n
    }

    /// A printable table: one row per prunable tensor, then the totals.
    public func table() -> String {
        func big(_ n: Int?) -> String {
            guard let n else { return "?" }
            var s = String(n), out = ""
            while s.count > 3 { out = "," + s.suffix(3) + out; s = String(s.dropLast(3)) }
            return s + out
        }
        func pct(_ d: Double) -> String { String(format: "%.2f%%", 100 * d) }
        var rows = [["layer", "shape", "params", "nonzero", "density", "MACs", "MACs kept"]]
        for l in layers {
            rows.append([l.name, describeShape(l.shape), big(l.parameters), big(l.nonzero), pct(l.density), big(l.macs), big(l.effectiveMACs)])
        }
        rows.append(["prunable", "", big(prunableParameters), big(prunableNonzero), pct(density), big(macs), big(effectiveMACs)])
        rows.append(["all parameters", "", big(totalParameters), big(totalNonzero),
                     pct(Double(totalNonzero) / Double(max(totalParameters, 1))), "", ""])
        return TextTable.render(rows, rightAligned: Set(2..<7))
    }
}

/// Plain-text tables with aligned columns.
public enum TextTable {
    public static func render(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let columns = rows.map { $0.count }.max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        var lines: [String] = []
        for (n, r) in rows.enumerated() {
            let cells = (0..<columns).map { i -> String in
                let c = i < r.count ? r[i] : ""
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return rightAligned.contains(i) ? pad + c : c + pad
            }
            lines.append(cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            if n == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines.joined(separator: "\n")
    }
}

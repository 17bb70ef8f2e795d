import Foundation

/// `tostring` of a tensor: the values (all of them when small, the first and last three
/// along each dimension when large) followed by the shape, as Torch7 prints.
extension Tensor: CustomStringConvertible {
    /// Tensors with more elements than this print in summary.
    public static let summaryThreshold = 1000

    public var description: String {
        if rank == 0 { return "tensor(\(Tensor.format(data[0], style: Tensor.style(for: [data[0]]))))" }
        let summarise = count > Tensor.summaryThreshold
        let shown = Tensor.shownValues(of: self, summarise: summarise)
        let style = Tensor.style(for: shown)
        let width = shown.map { Tensor.format($0, style: style).count }.max() ?? 1
        var out = ""
        render(prefix: [], summarise: summarise, style: style, width: width, indent: 1, into: &out)
        return out + "\n[Tensor of shape \(shape.map(String.init).joined(separator: "x"))]"
    }

    enum NumberStyle { case integer, fixed, scientific }

    static func style(for values: [Float]) -> NumberStyle {
        let finite = values.filter { $0.isFinite }
        if finite.allSatisfy({ $0 == $0.rounded() && Swift.abs($0) < 1e9 }) { return .integer }
        let big = finite.map { Swift.abs($0) }.max() ?? 0
        let small = finite.map { Swift.abs($0) }.filter { $0 > 0 }.min() ?? 1
        return big >= 1e5 || small < 1e-4 ? .scientific : .fixed
    }

    static func format(_ v: Float, style: NumberStyle) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        switch style {
        case .integer: return String(Int(v))
        case .fixed: return String(format: "%.4f", Double(v))
        case .scientific: return String(format: "%.4e", Double(v))
        }
    }

    /// Indices shown along a dimension of size n.
    static func shownIndices(_ n: Int, summarise: Bool) -> [Int?] {
        summarise && n > 6 ? [0, 1, 2, nil, n - 3, n - 2, n - 1] : Array(0..<n)
    }

    static func shownValues(of t: Tensor, summarise: Bool) -> [Float] {
        var values: [Float] = []
        func walk(_ index: [Int]) {
            if index.count == t.rank { values.append(t.data[t.elementOffset(index)]); return }
            for i in shownIndices(t.shape[index.count], summarise: summarise) { if let i { walk(index + [i]) } }
        }
        walk([])
        return values
    }

    private func render(prefix: [Int], summarise: Bool, style: NumberStyle, width: Int, indent: Int, into out: inout String) {
        let d = prefix.count
        out += "["
        let shown = Tensor.shownIndices(shape[d], summarise: summarise)
        for (n, i) in shown.enumerated() {
            if d == rank - 1 {
                if n > 0 { out += " " }
                guard let i else { out += String(repeating: " ", count: Swift.max(0, width - 3)) + "..."; continue }
                let s = Tensor.format(data[elementOffset(prefix + [i])], style: style)
                out += String(repeating: " ", count: width - s.count) + s
            } else {
                if n > 0 { out += "\n" + String(repeating: "\n", count: rank - d - 2) + String(repeating: " ", count: indent) }
                guard let i else { out += "..."; continue }
                render(prefix: prefix + [i], summarise: summarise, style: style, width: width, indent: indent + 1, into: &out)
            }
        }
        out += "]"
    }
}

/// A horizontal bar chart as inline SVG: one bar per item, values in percent (the
/// per-layer density of the final masks).
public struct BarChart {
    public var title: String
    public var bars: [(label: String, value: Double, note: String)]

    public init(title: String, bars: [(label: String, value: Double, note: String)]) {
        self.title = title; self.bars = bars
    }

    public func svg(width: Double = 640) -> String {
        let labelWidth = min(220, 7.0 * Double(bars.map { $0.label.count }.max() ?? 4) + 10)
        let rowHeight = 22.0, top = 30.0, right = 150.0
        let height = top + rowHeight * Double(bars.count) + 10
        let barSpace = width - labelWidth - right
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        out += "<text x=\"\(Int(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>"
        for (i, b) in bars.enumerated() {
            let y = top + Double(i) * rowHeight
            let w = max(0, min(100, b.value)) / 100 * barSpace
            out += "<text x=\"\(f(labelWidth - 6))\" y=\"\(f(y + 14))\" text-anchor=\"end\">\(escape(b.label))</text>"
            out += "<rect x=\"\(f(labelWidth))\" y=\"\(f(y + 3))\" width=\"\(f(barSpace))\" height=\"16\" fill=\"#f0f0f0\"/>"
            out += "<rect x=\"\(f(labelWidth))\" y=\"\(f(y + 3))\" width=\"\(f(w))\" height=\"16\" fill=\"#1f77b4\"/>"
            out += "<text x=\"\(f(labelWidth + barSpace + 6))\" y=\"\(f(y + 14))\">\(escape(String(format: "%.2f%%", b.value)))  \(escape(b.note))</text>"
        }
        return out + "</svg>"
    }
}

import Foundation

/// A line plot as inline SVG: one line (with markers) per series, an optional band
/// (low…high) around each, linear or log-scale axes, a legend.
public struct LineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// The spread around each point (min…max over runs), drawn as a shaded band.
        public var band: [(low: Double, high: Double)]? = nil
        public init(name: String, points: [(x: Double, y: Double)], band: [(low: Double, high: Double)]? = nil) {
            self.name = name; self.points = points; self.band = band
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX = false
    public var logY = false
    /// Larger x to the left (remaining weights fall as pruning goes on).
    public var reverseX = false
    public var series: [Series]

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false, series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.logX = logX; self.logY = logY; self.series = series
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public func svg(width: Double = 640, height: Double = 360) -> String {
        let left = 62.0, right = 16.0, top = 30.0, bottom = 46.0
        let legendRows = series.count > 1 ? (series.count + 2) / 3 : 0
        let plotHeight = height - top - bottom - Double(legendRows) * 18
        let plotWidth = width - left - right
        let usable = series.map { s in s.points.filter { ok($0.x, log: logX) && ok($0.y, log: logY) } }
        var ys = usable.flatMap { $0.map(\.y) }
        for s in series { for b in s.band ?? [] { ys.append(b.low); ys.append(b.high) } }
        let xs = usable.flatMap { $0.map(\.x) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        out += "<text x=\"\(Int(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>"
        guard !xs.isEmpty else { return out + "<text x=\"\(Int(width / 2))\" y=\"\(Int(height / 2))\" text-anchor=\"middle\">no data</text></svg>" }
        let xAxis = Axis(values: xs, log: logX, length: plotWidth)
        let yAxis = Axis(values: ys.filter { ok($0, log: logY) }, log: logY, length: plotHeight)
        let px = { [reverseX] (x: Double) in reverseX ? left + plotWidth - xAxis.position(x) : left + xAxis.position(x) }
        let py = { (y: Double) in top + plotHeight - yAxis.position(y) }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#999\"/>"
        for t in xAxis.ticks {
            let x = px(t)
            out += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 14))\" text-anchor=\"middle\">\(Axis.label(t))</text>"
        }
        for t in yAxis.ticks {
            let y = py(t)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(f(left - 5))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Axis.label(t))</text>"
        }
        out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight + 32))\" text-anchor=\"middle\">\(escape(xLabel))\(logX ? " (log scale)" : "")</text>"
        out += "<text transform=\"translate(14 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        for (i, s) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            if let band = s.band, band.count == s.points.count {
                let pairs = zip(s.points, band).filter { ok($0.0.x, log: logX) && ok($0.1.low, log: logY) && ok($0.1.high, log: logY) }
                if pairs.count > 1 {
                    let upper = pairs.map { "\(f(px($0.0.x))),\(f(py($0.1.high)))" }
                    let lower = pairs.reversed().map { "\(f(px($0.0.x))),\(f(py($0.1.low)))" }
                    out += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>"
                }
            }
            let pts = usable[i]
            let path = pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"><title>\(escape(s.name))</title></polyline>"
            if pts.count <= 60 {
                for p in pts {
                    out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.6\" fill=\"\(color)\"><title>\(escape(s.name)): \(Axis.label(p.x)), \(Axis.label(p.y))</title></circle>"
                }
            }
        }
        if legendRows > 0 {
            let column = plotWidth / 3
            for (i, s) in series.enumerated() {
                let x = left + Double(i % 3) * column, y = top + plotHeight + 48 + Double(i / 3) * 18
                out += "<rect x=\"\(f(x))\" y=\"\(f(y - 8))\" width=\"14\" height=\"4\" fill=\"\(Self.palette[i % Self.palette.count])\"/>"
                out += "<text x=\"\(f(x + 19))\" y=\"\(f(y - 3))\">\(escape(s.name))</text>"
            }
        }
        return out + "</svg>"
    }

    private func ok(_ v: Double, log: Bool) -> Bool { v.isFinite && (!log || v > 0) }
}

/// One axis: its range (padded, or whole decades on a log scale) and its ticks.
struct Axis {
    let log: Bool
    let low: Double, high: Double
    let length: Double
    var ticks: [Double] = []

    init(values: [Double], log: Bool, length: Double) {
        self.log = log
        self.length = length
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if log {
            lo = Foundation.log10(lo); hi = Foundation.log10(hi)
            if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
            let pad = (hi - lo) * 0.04
            low = lo - pad; high = hi + pad
            let decades = Int(Foundation.floor(low))...Int(Foundation.ceil(high))
            let steps: [Double] = decades.count <= 3 ? [1, 2, 5] : [1]
            for d in decades { for m in steps {
                let t = m * Foundation.pow(10, Double(d))
                if Foundation.log10(t) >= low && Foundation.log10(t) <= high { ticks.append(t) }
            } }
        } else {
            if hi - lo < 1e-12 { lo -= abs(lo) * 0.1 + 0.5; hi += abs(hi) * 0.1 + 0.5 }
            let pad = (hi - lo) * 0.05
            low = lo - pad; high = hi + pad
            let raw = (high - low) / 6
            let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
            let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            var t = Foundation.ceil(low / step) * step
            while t <= high + step * 1e-9 { ticks.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        }
    }

    /// Distance from the axis origin, in pixels.
    func position(_ v: Double) -> Double {
        let u = log ? Foundation.log10(v) : v
        return (u - low) / (high - low) * length
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e5 || abs(v) < 1e-3 { return String(format: "%.3g", v) }
        return String(format: "%.4g", v)
    }
}

/// Text for SVG and HTML.
func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

/// A coordinate with one decimal.
func f(_ v: Double) -> String { String(format: "%.1f", v) }

import Foundation

/// A sweep's finished points read back and grouped for its report: each point's final
/// value of every logged metric, grouped by series (the grid keys other than x and the
/// averaged one) and x, with the mean and spread over the averaged key (seeds).
public struct SweepResults {
    public struct Group {
        public var series: String
        public var x: Double
        public var xText: String
        /// Each metric's final values, one per point (seed) of the group.
        public var values: [String: [Double]] = [:]
        public var points: [Int] = []
    }

    public let manifest: SweepManifest
    public let folder: String
    public let xKey: String
    public let overKey: String?
    public let seriesKeys: [String]
    /// Each finished point's final metrics, by point index.
    public private(set) var summaries: [Int: [String: Double]] = [:]
    public private(set) var metrics: [String] = []
    public private(set) var groups: [Group] = []
    /// Whether x is a number (a text axis gets the table but no curves).
    public private(set) var numericX = true

    /// Counters that are not results.
    static let counters: Set<String> = ["step", "iteration", "epoch", "round", "seed", "time", "seconds"]
    /// Grid keys that make a natural x axis, most likely first.
    static let sparsityKeys = ["density", "sparsity", "compression", "remaining", "amount", "alpha", "rate", "rounds"]

    public init(folder: String, manifest: SweepManifest) throws {
        self.folder = folder
        self.manifest = manifest
        let keys = manifest.keys
        let numeric = keys.filter { key in manifest.points.allSatisfy { Double($0.value(key) ?? "") != nil } }
        let over = manifest.over ?? (keys.contains("seed") ? "seed" : nil)
        let x = manifest.x ?? Self.sparsityKeys.first { numeric.contains($0) }
            ?? numeric.first { $0 != over } ?? keys.first { $0 != over } ?? "point"
        (overKey, xKey, seriesKeys) = (over, x, keys.filter { $0 != x && $0 != over })
        // A record's text fields that are not grid keys (arm = "reinit", say) name its metrics
        // apart: "accuracy (arm=reinit)". The plain name keeps the last value of any record.
        var order: [String] = []
        for p in manifest.points where p.state == "finished" {
            let run = try RunRecord(path: folder + "/" + p.name)
            var last: [String: Double] = [:]
            for r in run.records {
                let tag = r.keys.sorted().compactMap { k in r[k]?.string.map { "\(k)=\($0)" } }
                    .filter { t in !keys.contains { t.hasPrefix($0 + "=") } }.joined(separator: ",")
                for k in r.keys.sorted() {
                    guard let d = r[k]?.number, d.isFinite, !keys.contains(k), !Self.counters.contains(k) else { continue }
                    let name = tag.isEmpty ? k : "\(k) (\(tag))"
                    if !order.contains(name) { order.append(name) }
                    last[k] = d   // x may name a logged key whatever its records' tags
                    last[name] = d
                }
            }
            summaries[p.index] = last
        }
        metrics = order.filter { $0 != x && !$0.hasPrefix(x + " (") }
        var byKey: [String: Int] = [:]
        let xKey = x
        for p in manifest.points {
            guard let summary = summaries[p.index] else { continue }
            let xText = p.value(xKey) ?? summary[xKey].map(JSONValue.format) ?? ""
            // A text axis (method names) orders the table; it draws no curve.
            let position = (manifest.grid + manifest.zip).first { $0.key == xKey }?.values.firstIndex(of: xText).map(Double.init)
            guard let xValue = Double(xText) ?? summary[xKey] ?? position else { continue }
            if Double(xText) == nil && summary[xKey] == nil { numericX = false }
            let series = seriesKeys.map { "\($0)=\(p.value($0) ?? "")" }.joined(separator: ",")
            let key = series + "\u{1}" + xText
            if byKey[key] == nil { byKey[key] = groups.count; groups.append(Group(series: series, x: xValue, xText: xText)) }
            let g = byKey[key]!
            groups[g].points.append(p.index)
            for (k, v) in summary { groups[g].values[k, default: []].append(v) }
        }
    }

    /// Mean and sample standard deviation (0 for one value).
    public static func meanStd(_ v: [Double]) -> (mean: Double, std: Double) {
        guard !v.isEmpty else { return (.nan, .nan) }
        let mean = v.reduce(0, +) / Double(v.count)
        guard v.count > 1 else { return (mean, 0) }
        let ss = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let std = (ss / Double(v.count - 1)).squareRoot()
        // Equal values summed in another order differ in the last bits: that spread is 0.
        return (mean, std <= 1e-9 * max(1, abs(mean)) ? 0 : std)
    }

    /// The series names, in the grid's order.
    public var seriesNames: [String] {
        var out: [String] = []
        for g in groups where !out.contains(g.series) { out.append(g.series) }
        return out
    }

    /// One chart per metric: every series against x, the mean over the averaged key with ±1 std shaded.
    public func charts() -> [LineChart] {
        guard numericX else { return [] }
        let xs = groups.map(\.x)
        let logX = (xs.min() ?? 0) > 0 && (xs.max() ?? 0) / (xs.min() ?? 1) >= 50
        return metrics.map { metric in
            let series = seriesNames.map { name -> LineChart.Series in
                let gs = groups.filter { $0.series == name && $0.values[metric] != nil }.sorted { $0.x < $1.x }
                let stats = gs.map { Self.meanStd($0.values[metric]!) }
                let spread = gs.contains { ($0.values[metric]?.count ?? 0) > 1 }
                return LineChart.Series(name: name.isEmpty ? metric : name,
                                        points: zip(gs, stats).map { (x: $0.0.x, y: $0.1.mean) },
                                        band: spread ? stats.map { (low: $0.mean - $0.std, high: $0.mean + $0.std) } : nil)
            }
            let over = overKey.map { ", mean ± std over \($0)" } ?? ""
            return LineChart(title: "\(metric) against \(xKey)\(over)", xLabel: xKey, yLabel: metric, logX: logX, series: series)
        }
    }

    /// The results table: one row per series and x, each metric as mean ± std (n).
    public func table() -> (columns: [String], rows: [[String]]) {
        let columns = seriesKeys + [xKey, "n"] + metrics
        var rows: [[String]] = []
        for name in seriesNames {
            for g in groups.filter({ $0.series == name }).sorted(by: { $0.x < $1.x }) {
                var row = seriesKeys.map { key in manifest.points.first { $0.index == g.points[0] }?.value(key) ?? "" }
                row += [g.xText, String(g.points.count)]
                row += metrics.map { m in
                    guard let v = g.values[m] else { return "" }
                    let s = Self.meanStd(v)
                    return v.count > 1 ? String(format: "%.4g ± %.2g", s.mean, s.std) : String(format: "%.4g", s.mean)
                }
                rows.append(row)
            }
        }
        return (columns, rows)
    }
}

import Foundation

/// The charts of a report, derived from the logged records of one run or several (then
/// series with the same name are averaged, with their min…max spread as a band).
public struct ReportCharts {
    public let runs: [RunRecord]

    public init(runs: [RunRecord]) { self.runs = runs }

    /// Keys that stamp or count rather than measure something.
    static let stamps: Set<String> = ["step", "time", "seed", "round", "epoch", "iteration"]

    /// A record's series: its text fields ("arm = reinit"), or "" if it has none.
    static func label(_ r: [String: JSONValue]) -> String {
        r.keys.sorted().compactMap { k in r[k]?.string.map { $0 } }.joined(separator: " / ")
    }

    /// How a record says how much of the network remains, in percent.
    static func remaining(_ r: [String: JSONValue], fraction: Bool) -> Double? {
        for (k, v) in r {
            guard let d = v.number else { continue }
            let key = k.lowercased()
            let scale = fraction ? 100.0 : 1.0
            if key.contains("remaining") || key == "density" { return d * scale }
            if key.contains("sparsity") { return 100 - d * scale }
        }
        return nil
    }

    /// Accuracy against remaining weights (log x), one chart per accuracy key, whenever
    /// records carry both.
    public func accuracyVsRemaining() -> [LineChart] {
        let all = runs.flatMap(\.records)
        guard all.contains(where: { Self.remaining($0, fraction: false) != nil }) else { return [] }
        // Fractions (0…1) or percents: judged over every value logged.
        let fraction = all.compactMap { Self.remaining($0, fraction: false) }.allSatisfy { $0 <= 1.0 }
        let accuracyKeys = Set(all.flatMap { r in r.keys.filter { $0.lowercased().contains("acc") && r[$0]?.number != nil } }).sorted()
        return accuracyKeys.map { key in
            let series = combined { r in
                guard let x = Self.remaining(r, fraction: fraction), let y = r[key]?.number else { return nil }
                return (x, y)
            }
            var chart = LineChart(title: "\(key) vs remaining weights", xLabel: "remaining weights %", yLabel: key,
                                  logX: true, series: series)
            chart.reverseX = true
            return chart
        }
    }

    /// Measured speed-up against sparsity (records with a `speedup…` key and a sparsity,
    /// density or remaining key, as `speedup.lua` logs them), one series per kind and key,
    /// with the dense network's 1× drawn across.
    public func speedupVsSparsity() -> [LineChart] {
        let all = runs.flatMap(\.records)
        let keys = Set(all.flatMap { r in r.keys.filter { $0.lowercased().hasPrefix("speedup") && r[$0]?.number != nil } }).sorted()
        guard !keys.isEmpty, all.contains(where: { Self.remaining($0, fraction: false) != nil }) else { return [] }
        let fraction = all.compactMap { Self.remaining($0, fraction: false) }.allSatisfy { $0 <= 1.0 }
        return keys.map { key in
            var series = combined { r in
                guard let left = Self.remaining(r, fraction: fraction), let y = r[key]?.number else { return nil }
                return (100 - left, y)
            }
            let xs = series.flatMap { $0.points.map(\.x) }
            if let lo = xs.min(), let hi = xs.max() { series.append(LineChart.Series(name: "dense (1×)", points: [(lo, 1), (hi, 1)])) }
            return LineChart(title: "\(key) vs sparsity", xLabel: "sparsity %", yLabel: "speed-up over dense (×)", series: series)
        }
    }

    /// Median latency of each network `lp.benchmark` timed (the last record of each name
    /// and batch).
    public func latencies() -> BarChart? {
        var bars: [(String, Double, String)] = []
        for r in runs.flatMap(\.records) {
            guard let name = r["benchmark"]?.string, let ms = r["latency_ms"]?.number else { continue }
            let batch = r["batch"]?.number.map { " b\(Int($0))" } ?? ""
            let label = name + batch
            let shown = String(format: "%.3f ms", ms)
            if let i = bars.firstIndex(where: { $0.0 == label }) { bars[i] = (label, ms, shown) } else { bars.append((label, ms, shown)) }
        }
        guard let slowest = bars.map({ $0.1 }).max(), slowest > 0 else { return nil }
        // Bars are drawn in percent: of the slowest network's latency.
        return BarChart(title: "latency per network (median; bars relative to the slowest)",
                        bars: bars.map { ($0.0, 100 * $0.1 / slowest, $0.2) })
    }

    /// Every numeric metric over the record's step.
    public func metricsOverSteps() -> [LineChart] {
        let all = runs.flatMap(\.records)
        var keys: [String] = []
        for r in all { for (k, v) in r where v.number != nil && !Self.stamps.contains(k) && !keys.contains(k) { keys.append(k) } }
        return keys.sorted().map { key in
            LineChart(title: key, xLabel: "step", yLabel: key, series: combined { r in
                guard let x = r["step"]?.number, let y = r[key]?.number else { return nil }
                return (x, y)
            })
        }
    }

    /// The recipe's own `lp.plot` charts. A plot names record keys (`x = "round"`,
    /// `y = {"loss", "accuracy"}`, split by `series`) or carries its points (`x = {…}`,
    /// `y = {…}`); plots with the same title and literal points share one chart.
    public func recipePlots() -> [LineChart] {
        var charts: [LineChart] = []
        var byTitle: [String: Int] = [:]
        for (run, spec) in runs.flatMap({ r in r.plots.map { (r, $0) } }) {
            let title = spec["title"]?.string ?? "plot"
            let logX = spec["logx"] == .bool(true), logY = spec["logy"] == .bool(true)
            if let xs = spec["x"]?.array, let ys = spec["y"]?.array {
                let points = zip(xs, ys).compactMap { a, b in a.number.flatMap { x in b.number.map { (x: x, y: $0) } } }
                var name = spec["series"]?.string ?? spec["y_label"]?.string ?? "series"
                if runs.count > 1 { name = run.name + " · " + name }
                let s = LineChart.Series(name: name, points: points)
                if let i = byTitle[title] { charts[i].series.append(s); continue }
                byTitle[title] = charts.count
                charts.append(LineChart(title: title, xLabel: spec["xlabel"]?.string ?? "x", yLabel: spec["ylabel"]?.string ?? "y",
                                        logX: logX, logY: logY, series: [s]))
            } else if let xKey = spec["x"]?.string {
                let yKeys = spec["y"]?.array?.compactMap { $0.string } ?? [spec["y"]?.string ?? ""]
                let split = spec["series"]?.string
                var series: [LineChart.Series] = []
                for yKey in yKeys {
                    for var s in combined(by: split, { r in
                        guard let x = r[xKey]?.number, let y = r[yKey]?.number else { return nil }
                        return (x, y)
                    }) {
                        if yKeys.count > 1 { s.name = s.name.isEmpty ? yKey : yKey + " · " + s.name }
                        series.append(s)
                    }
                }
                charts.append(LineChart(title: title, xLabel: spec["xlabel"]?.string ?? xKey,
                                        yLabel: spec["ylabel"]?.string ?? yKeys.joined(separator: ", "),
                                        logX: logX, logY: logY, series: series))
            }
        }
        return charts
    }

    /// Per-layer density of the final masks (of the last run that pruned).
    public func layerDensity() -> BarChart? {
        guard let run = runs.last(where: { !$0.layers.isEmpty }) else { return nil }
        let title = runs.count > 1 ? "density per layer, final masks (\(run.name))" : "density per layer, final masks"
        return BarChart(title: title, bars: run.layers.map { l in
            (l.name, 100 * l.density, "\(l.nonzero) of \(l.params)")
        })
    }

    /// Series of (x, y) picked from each record, one per label (or per value of `split`),
    /// in the order first seen; across several runs or seeds, the mean with its spread.
    func combined(by split: String? = nil, _ pick: ([String: JSONValue]) -> (Double, Double)?) -> [LineChart.Series] {
        var order: [String] = []
        var perRun: [[String: [(x: Double, y: Double)]]] = []
        // Replicates: each run, and within a run each seed its records name.
        for run in runs {
            var seeds: [Double?] = []
            var groups: [Double?: [String: [(x: Double, y: Double)]]] = [:]
            for r in run.records {
                guard let (x, y) = pick(r) else { continue }
                let name = split.map { r[$0]?.text ?? "" } ?? Self.label(r)
                if !order.contains(name) { order.append(name) }
                let seed = r["seed"]?.number
                if groups[seed] == nil { seeds.append(seed) }
                groups[seed, default: [:]][name, default: []].append((x, y))
            }
            perRun += seeds.map { groups[$0]! }
        }
        return order.map { name in
            let lists = perRun.compactMap { $0[name] }
            guard lists.count > 1 else { return LineChart.Series(name: name, points: lists.first ?? []) }
            // Mean over runs at each x, in the order of the first run that has it.
            var xs: [Double] = []
            var values: [Double: [Double]] = [:]
            for list in lists { for p in list {
                let key = (p.x * 1e6).rounded() / 1e6
                if values[key] == nil { xs.append(key) }
                values[key, default: []].append(p.y)
            } }
            let points = xs.map { x in (x: x, y: values[x]!.reduce(0, +) / Double(values[x]!.count)) }
            let band = xs.map { x in (low: values[x]!.min()!, high: values[x]!.max()!) }
            let what = runs.count > 1 ? "runs" : "seeds"
            return LineChart.Series(name: (name.isEmpty ? "" : name + ", ") + "mean of \(lists.count) \(what)", points: points, band: band)
        }
    }
}

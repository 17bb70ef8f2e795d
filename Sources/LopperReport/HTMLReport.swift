import Foundation

/// report.html: one self-contained page (inline SVG and CSS, nothing fetched) with the
/// settings, the accuracy-vs-remaining plots, the density per layer, the recipe's plots,
/// every logged metric and every table.
public struct HTMLReport {
    public let runs: [RunRecord]

    public init(runs: [RunRecord]) { self.runs = runs }

    static let style = """
    body{font-family:sans-serif;margin:24px auto;max-width:1340px;color:#222;padding:0 16px}
    h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
    .meta{color:#666;font-size:13px}.grid{display:flex;flex-wrap:wrap;gap:12px}
    .grid svg{border:1px solid #eee;background:#fff}
    table{border-collapse:collapse;font-size:13px;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px 9px}
    th{background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:bold;padding:4px 0}
    """

    public func render() -> String {
        let charts = ReportCharts(runs: runs)
        let single = runs.count == 1 ? runs[0] : nil
        let title = single.map { $0.recipe + " — " + $0.name } ?? "\(runs.count) runs: " + runs.map(\.name).joined(separator: ", ")
        var out = "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
        if single?.status == "running" { out += "<meta http-equiv=\"refresh\" content=\"10\">" }
        out += "<title>\(escape(title))</title><style>\(Self.style)</style></head><body>\n"
        out += "<h1>\(escape(title))</h1>\n"
        for run in runs {
            out += "<p class=\"meta\">\(escape(run.name)): \(escape(run.status)); started \(escape(run.started)); Lopper \(escape(run.lopperVersion)), script hash \(escape(run.scriptHash)); \(run.records.count) records.</p>\n"
        }
        out += "<h2>Settings</h2>\n" + settingsTable()
        let sparsity = charts.accuracyVsRemaining()
        let layers = charts.layerDensity()
        if !sparsity.isEmpty || layers != nil {
            out += "<h2>Pruning</h2>\n<div class=\"grid\">" + sparsity.map { $0.svg() }.joined()
            if let layers { out += layers.svg() }
            out += "</div>\n"
        }
        let speed = charts.speedupVsSparsity(), latency = charts.latencies()
        if !speed.isEmpty || latency != nil {
            out += "<h2>Speed</h2>\n<div class=\"grid\">" + speed.map { $0.svg() }.joined()
            if let latency { out += latency.svg() }
            out += "</div>\n"
        }
        let own = charts.recipePlots()
        if !own.isEmpty { out += "<h2>Plots</h2>\n<div class=\"grid\">" + own.map { $0.svg() }.joined() + "</div>\n" }
        let metrics = charts.metricsOverSteps()
        if !metrics.isEmpty {
            out += "<h2>Metrics</h2>\n<div class=\"grid\">" + metrics.map { $0.svg(width: 440, height: 280) }.joined() + "</div>\n"
        }
        let tables = runs.flatMap { run in run.tables.map { (run, $0) } }
        if !tables.isEmpty {
            out += "<h2>Tables</h2>\n"
            for (run, t) in tables { out += table(t, prefix: runs.count > 1 ? run.name + ": " : "") }
        }
        return out + "</body></html>\n"
    }

    /// Settings, one column per run (differences across runs show side by side).
    func settingsTable() -> String {
        let keys = Set(runs.flatMap { $0.settings.keys }).sorted()
        var out = "<table><tr><th>setting</th>" + runs.map { "<th>\(escape(runs.count > 1 ? $0.name : "value"))</th>" }.joined() + "</tr>"
        for k in keys {
            out += "<tr><td>\(escape(k))</td>" + runs.map { "<td>\(escape($0.settings[k]?.text ?? ""))</td>" }.joined() + "</tr>"
        }
        return out + "</table>\n"
    }

    func table(_ t: RunRecord.Table, prefix: String) -> String {
        var out = "<table><caption>\(escape(prefix + t.title))</caption><tr>" + t.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        for row in t.rows {
            out += "<tr>" + row.map { Double($0) != nil ? "<td class=\"n\">\(escape($0))</td>" : "<td>\(escape($0))</td>" }.joined() + "</tr>"
        }
        return out + "</table>\n"
    }
}

/// report.md: the settings and every table, for a terminal or a pull request.
public struct MarkdownReport {
    public let runs: [RunRecord]

    public init(runs: [RunRecord]) { self.runs = runs }

    public func render() -> String {
        var lines: [String] = []
        for run in runs {
            lines += ["# \(run.recipe) — \(run.name)", "",
                      "Started \(run.started); \(run.status). Lopper \(run.lopperVersion), script hash \(run.scriptHash).", "",
                      "| setting | value |", "|---|---|"]
            lines += run.settings.keys.sorted().map { "| \($0) | \(run.settings[$0]!.text) |" }
            lines.append("")
            for t in run.tables {
                if !t.title.isEmpty { lines += [t.title, ""] }
                lines.append("| " + t.columns.joined(separator: " | ") + " |")
                lines.append("|" + t.columns.map { _ in "---" }.joined(separator: "|") + "|")
                lines += t.rows.map { "| " + $0.joined(separator: " | ") + " |" }
                lines.append("")
            }
            if !run.records.isEmpty { lines += ["\(run.records.count) records in metrics.jsonl; plots in report.html.", ""] }
        }
        return lines.joined(separator: "\n")
    }
}

/// Writes a run's reports (report.html and report.md), each atomically.
public enum ReportWriter {
    public static func write(run path: String) throws {
        let run = try RunRecord(path: path)
        try write(HTMLReport(runs: [run]).render(), to: path + "/report.html")
        try write(MarkdownReport(runs: [run]).render(), to: path + "/report.md")
    }

    public static func write(_ text: String, to path: String) throws {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
        catch { throw ReportError("report: cannot write \(path): \(error.localizedDescription)") }
    }
}

import Foundation

/// runs/<sweep>/report.html and report.md: for each metric, every series against x (mean
/// over seeds, spread shaded); the table of means ± std; every point with its state, its
/// error and a link to its own report.
public struct SweepReport {
    public let results: SweepResults

    public init(folder: String) throws {
        results = try SweepResults(folder: folder, manifest: try SweepManifest.load(folder))
    }

    var manifest: SweepManifest { results.manifest }

    /// "3 finished, 1 failed, 4 waiting".
    public var stateSummary: String {
        var counts: [(String, Int)] = []
        for p in manifest.points {
            if let i = counts.firstIndex(where: { $0.0 == p.state }) { counts[i].1 += 1 } else { counts.append((p.state, 1)) }
        }
        return counts.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
    }

    var gridText: String {
        var parts = manifest.grid.map { "\($0.key) ∈ {\($0.values.joined(separator: ", "))}" }
        if !manifest.zip.isEmpty {
            parts.append("zipped (" + manifest.zip.map { "\($0.key) = \($0.values.joined(separator: ", "))" }.joined(separator: "; ") + ")")
        }
        return parts.joined(separator: " × ")
    }

    public func html() -> String {
        let title = "sweep \(manifest.name) — \(manifest.recipe)"
        var out = "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
        if manifest.points.contains(where: { ["running", "queued", "waiting"].contains($0.state) }) {
            out += "<meta http-equiv=\"refresh\" content=\"15\">"
        }
        out += "<title>\(escape(title))</title><style>\(HTMLReport.style)</style></head><body>\n<h1>\(escape(title))</h1>\n"
        out += "<p class=\"meta\">\(manifest.points.count) points (\(escape(stateSummary))); grid \(escape(gridText))"
        if !manifest.set.isEmpty { out += "; every point: \(escape(manifest.set.joined(separator: " ")))" }
        out += "; backend \(escape(manifest.backend)), \(manifest.threads) thread(s) a run; created \(escape(manifest.created)).</p>\n"
        let charts = results.charts(), t = results.table()
        if !t.rows.isEmpty {
            out += "<h2>Results</h2>\n"
            if !charts.isEmpty { out += "<div class=\"grid\">" + charts.map { $0.svg(width: 560, height: 340) }.joined() + "</div>\n" }
            let caption = "mean ± std over " + (results.overKey ?? "points") + " (n points), each point's last logged value"
            out += "<table><caption>\(escape(caption))</caption><tr>" + t.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
            for row in t.rows { out += "<tr>" + row.map { "<td class=\"n\">\(escape($0))</td>" }.joined() + "</tr>" }
            out += "</table>\n"
        }
        out += "<h2>Points</h2>\n<table><tr><th>#</th><th>point</th><th>state</th><th>seconds</th><th>error</th></tr>"
        for p in manifest.points {
            let link = FileManager.default.fileExists(atPath: results.folder + "/" + p.name + "/report.html")
                ? "<a href=\"\(escape(Self.href(p.name)))/report.html\">\(escape(p.name))</a>" : escape(p.name)
            out += "<tr><td class=\"n\">\(p.index)</td><td>\(link)</td><td>\(escape(p.state))</td>"
            out += "<td class=\"n\">\(p.seconds.map { String(format: "%.1f", $0) } ?? "")</td><td>\(escape(p.error ?? ""))</td></tr>"
        }
        return out + "</table>\n</body></html>\n"
    }

    public func markdown() -> String {
        var lines = ["# sweep \(manifest.name) — \(manifest.recipe)", "",
                     "\(manifest.points.count) points (\(stateSummary)); grid \(gridText).", ""]
        if !manifest.set.isEmpty { lines += ["Every point: `\(manifest.set.joined(separator: " "))`.", ""] }
        let t = results.table()
        if !t.rows.isEmpty {
            lines += ["Mean ± std over \(results.overKey ?? "points") (n points), each point's last logged value:", ""]
            lines.append("| " + t.columns.joined(separator: " | ") + " |")
            lines.append("|" + t.columns.map { _ in "---" }.joined(separator: "|") + "|")
            lines += t.rows.map { "| " + $0.joined(separator: " | ") + " |" }
            lines.append("")
        }
        lines += ["| # | point | state | seconds | error |", "|---|---|---|---|---|"]
        for p in manifest.points {
            let error = (p.error ?? "").replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
            lines.append("| \(p.index) | \(p.name) | \(p.state) | \(p.seconds.map { String(format: "%.1f", $0) } ?? "") | \(error) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes report.html and report.md into the sweep folder.
    public func write() throws {
        try ReportWriter.write(html(), to: results.folder + "/report.html")
        try ReportWriter.write(markdown(), to: results.folder + "/report.md")
    }

    static func href(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
    }
}

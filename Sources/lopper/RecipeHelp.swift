import Foundation

/// `lopper run R.lua --help`: the settings a recipe declares in its `lp.config{…}` block,
/// with their defaults and the comment on their line.
enum RecipeHelp {
    struct Setting: Equatable { var key: String, value: String, help: String }

    /// The settings of the first `lp.config{` block of `source`, in order.
    static func settings(_ source: String) -> [Setting] {
        guard let start = source.range(of: "lp.config{") ?? source.range(of: "lp.config {") else { return [] }
        var out: [Setting] = []
        var depth = 1
        for rawLine in source[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            var code = Substring(rawLine), help = ""
            if let c = rawLine.range(of: "--") {
                code = rawLine[..<c.lowerBound]
                help = rawLine[c.upperBound...].trimmingCharacters(in: .whitespaces)
            }
            var part = "", lineKeys: [Int] = []
            func flush() {
                let p = part.trimmingCharacters(in: .whitespaces)
                part = ""
                guard let eq = p.firstIndex(of: "="), depth >= 1 else { return }
                let key = p[..<eq].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return }
                out.append(Setting(key: key, value: p[p.index(after: eq)...].trimmingCharacters(in: .whitespaces), help: ""))
                lineKeys.append(out.count - 1)
            }
            var inString: Character?
            for ch in code {
                if let q = inString { part.append(ch); if ch == q { inString = nil }; continue }
                switch ch {
                case "\"", "'": inString = ch; part.append(ch)
                case "{": depth += 1; part.append(ch)
                case "}":
                    depth -= 1
                    if depth == 0 { flush(); break }
                    part.append(ch)
                case "," where depth == 1: flush()
                default: part.append(ch)
                }
                if depth == 0 { break }
            }
            if depth > 0 { flush() }
            if let last = lineKeys.last, !help.isEmpty { out[last].help = help }
            if depth == 0 { break }
        }
        return out
    }

    /// The help text for a recipe file.
    static func text(script: String) -> String {
        guard let data = FileManager.default.contents(atPath: script), let source = String(data: data, encoding: .utf8) else {
            return "lopper: cannot read '\(script)'"
        }
        let settings = settings(source)
        guard !settings.isEmpty else { return "\(script) declares no settings (no lp.config{…} block)." }
        let kw = settings.map { $0.key.count + $0.value.count + 3 }.max() ?? 0
        var lines = ["Settings of \(script) (override with --set key=value):"]
        for s in settings {
            let left = "\(s.key) = \(s.value)"
            let line = "  " + left + String(repeating: " ", count: max(1, kw - left.count + 2)) + s.help
            lines.append(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        return lines.joined(separator: "\n")
    }
}

import Foundation

/// The documentation of one name of the Lua surface (`lp.prune.prune`, `Tensor:add`,
/// `Module:forward`): its signature, what it does, its options and an example. Entries are
/// written in Markdown next to the bindings (`Docs/<area>.md`) or in `---` comments of the
/// shipped Lua files, and serve `help()`, `docs/reference.md` and unknown-option errors.
public struct DocEntry: Equatable {
    public struct Option: Equatable {
        public var name: String
        public var type: String
        public var defaultValue: String?
        public var text: String
        /// Set on a line `- the options of `lp.prune.prunable``: it stands for that entry's
        /// options, copied in when the index is built.
        var includes: String? = nil
    }

    /// The name as the signature spells it: `lp.prune.prune`, `Tensor:add`.
    public var name: String
    /// The heading line: `lp.prune.prune(net, options) -> report`.
    public var signature: String
    /// Other names of the same function (`lp.add` for `Tensor:add`).
    public var aliases: [String] = []
    /// Paragraphs of Markdown.
    public var text: String = ""
    public var options: [Option] = []
    /// Lua source, run by the documentation tests.
    public var example: String = ""
    /// The area (file) the entry belongs to: `tensor`, `prune`.
    public var area: String = ""

    /// Every name this entry answers to.
    public var names: [String] { [name] + aliases }

    /// The first sentence of the text (a full stop after "al", "e.g" or "i.e" ends none).
    public var summary: String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        var from = flat.startIndex
        while let r = flat.range(of: ". ", range: from..<flat.endIndex) {
            let before = flat[..<r.lowerBound].split(separator: " ").last ?? ""
            if !["al", "e.g", "i.e", "cf", "vs"].contains(before.lowercased()) { return String(flat[..<r.lowerBound]) + "." }
            from = r.upperBound
        }
        return flat
    }
}

/// One area of the reference: a title, an introduction and its entries, in order.
public struct DocArea: Equatable {
    public var id: String
    public var title: String
    public var intro: String
    public var entries: [DocEntry]
}

/// Reads entries from the Markdown of an area file:
///
///     ## lp.zeros(size...) -> Tensor
///     Also: lp.ones(size...)
///     A tensor of zeros …
///
///     - `dtype` (string, default `"float32"`): …
///
///     ```lua
///     local z = lp.zeros(2, 3)
///     ```
public enum DocParser {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The area in `markdown` (`# Title`, an introduction, then `## ` entries).
    public static func area(id: String, markdown: String, source: String) throws -> DocArea {
        var title = id, intro: [String] = [], blocks: [[String]] = []
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if blocks.isEmpty, line.hasPrefix("# ") { title = String(line.dropFirst(2)); continue }
            if line.hasPrefix("## ") { blocks.append([line]); continue }
            if blocks.isEmpty { intro.append(line) } else { blocks[blocks.count - 1].append(line) }
        }
        let entries = try blocks.map { try entry($0, area: id, source: source) }
        return DocArea(id: id, title: title, intro: trim(intro.joined(separator: "\n")), entries: entries)
    }

    /// Entries in the `---` comment blocks of a Lua file; `--- @area id` sets the area of
    /// those that follow.
    public static func luaEntries(_ lua: String, source: String) throws -> [DocEntry] {
        var area = "", block: [String]? = nil, out: [DocEntry] = []
        func flush() throws {
            if let b = block { out.append(try entry(b, area: area, source: source)) }
            block = nil
        }
        for line in lua.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("--- @area ") {
                try flush()
                area = line.dropFirst(10).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("--- ") {
                try flush()
                block = ["## " + line.dropFirst(4)]
            } else if block != nil, line.hasPrefix("--") {
                block!.append(String(line.dropFirst(line.hasPrefix("-- ") ? 3 : 2)))
            } else {
                try flush()
            }
        }
        try flush()
        return out
    }

    /// One entry from its lines, the first being `## signature`.
    static func entry(_ lines: [String], area: String, source: String) throws -> DocEntry {
        let signature = lines[0].dropFirst(3).trimmingCharacters(in: .whitespaces)
        var e = DocEntry(name: name(of: signature), signature: signature, area: area)
        guard !e.name.isEmpty else { throw Failure(description: "\(source): an entry without a name: '\(lines[0])'") }
        var text: [String] = [], inExample = false, example: [String] = [], seenExample = false, inOption = false
        for line in lines.dropFirst() {
            if inExample {
                if line.hasPrefix("```") { inExample = false; seenExample = true } else { example.append(line) }
                continue
            }
            if line.hasPrefix("```lua"), !seenExample { inExample = true; continue }
            if line.hasPrefix("Also: ") {
                e.aliases += line.dropFirst(6).split(separator: ",").map { name(of: $0.trimmingCharacters(in: .whitespaces)) }
                continue
            }
            if line.hasPrefix("- the options of `"), let end = line.dropFirst(18).firstIndex(of: "`") {
                // Shared options (the selection keys of lp.prune), copied when the index is built.
                e.options.append(.init(name: "", type: "", text: "", includes: String(line.dropFirst(18)[..<end])))
                continue
            }
            if line.hasPrefix("- `") {
                e.options.append(try option(line, source: source, entry: e.name))
                inOption = true
                continue
            }
            if inOption, line.hasPrefix("  "), !line.trimmingCharacters(in: .whitespaces).isEmpty {
                e.options[e.options.count - 1].text += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            inOption = false
            text.append(line)
        }
        guard !inExample else { throw Failure(description: "\(source): \(e.name): the example block is not closed") }
        e.text = trim(text.joined(separator: "\n").replacingOccurrences(of: "\n{3,}", with: "\n\n", options: .regularExpression))
        e.example = example.joined(separator: "\n")
        return e
    }

    /// `- `name` (type, default `v`): text`
    static func option(_ line: String, source: String, entry: String) throws -> DocEntry.Option {
        let rest = line.dropFirst(3)
        guard let close = rest.firstIndex(of: "`") else { throw Failure(description: "\(source): \(entry): bad option line '\(line)'") }
        let name = String(rest[..<close])
        var after = rest[rest.index(after: close)...].trimmingCharacters(in: .whitespaces)
        var type = "", def: String? = nil
        if after.hasPrefix("("), let end = matchingParen(after) {
            let inside = after[after.index(after: after.startIndex)..<end]
            if let d = inside.range(of: ", default ") {
                type = String(inside[..<d.lowerBound])
                def = String(inside[d.upperBound...])
            } else {
                type = String(inside)
            }
            after = String(after[after.index(after: end)...])
        }
        if after.hasPrefix(":") { after.removeFirst() }
        return DocEntry.Option(name: name, type: type, defaultValue: def, text: after.trimmingCharacters(in: .whitespaces))
    }

    /// The index of the parenthesis closing the one `s` starts with.
    static func matchingParen(_ s: String) -> String.Index? {
        var depth = 0
        for i in s.indices {
            if s[i] == "(" { depth += 1 }
            if s[i] == ")" { depth -= 1; if depth == 0 { return i } }
        }
        return nil
    }

    /// `lp.zeros(size...) -> Tensor` → `lp.zeros`; `lp.version` → `lp.version`.
    static func name(of signature: String) -> String {
        String(signature.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == ":" })
    }

    static func trim(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }
}

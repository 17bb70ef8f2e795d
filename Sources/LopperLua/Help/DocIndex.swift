import Foundation

/// All documentation of the Lua surface, read once from this target's resources: the area
/// files `Docs/<area>.md` and the `---` comments of the shipped Lua files. Also the
/// recipes, found on disk, so that a search finds the recipe that uses a method.
public enum DocIndex {
    /// The areas, in the order of the reference.
    public static let areaOrder = ["tensor", "autograd", "nn", "models", "optim", "train", "data", "io",
                                   "prune", "masks", "runs", "help"]
    /// Shipped Lua files whose comments document parts of `lp`.
    static let luaFiles = ["prelude", "cells", "sparse", "eval", "help"]

    nonisolated(unsafe) private static var cached: [DocArea]?

    /// The areas with their entries (Lua-documented entries join the area they name).
    public static func areas() throws -> [DocArea] {
        if let cached { return cached }
        var areas: [DocArea] = []
        for id in areaOrder {
            guard let url = Bundle.module.url(forResource: id, withExtension: "md", subdirectory: "Docs"),
                  let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
                throw DocParser.Failure(description: "lopper: its documentation Docs/\(id).md is missing from \(Bundle.module.bundlePath)")
            }
            areas.append(try DocParser.area(id: id, markdown: text, source: "Docs/\(id).md"))
        }
        for file in luaFiles {
            for e in try DocParser.luaEntries(try LuaSources.text(file), source: "Lua/\(file).lua") {
                guard let k = areas.firstIndex(where: { $0.id == e.area }) else {
                    throw DocParser.Failure(description: "Lua/\(file).lua: \(e.name) names an unknown area '\(e.area)'")
                }
                areas[k].entries.append(e)
            }
        }
        try resolveIncludes(&areas)
        cached = areas
        return areas
    }

    /// Replaces each `- the options of `name`` line by that entry's options (resolved in
    /// turn, to a depth of 4).
    static func resolveIncludes(_ areas: inout [DocArea]) throws {
        let byName = Dictionary(areas.flatMap { $0.entries }.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func options(of e: DocEntry, depth: Int) throws -> [DocEntry.Option] {
            try e.options.flatMap { o -> [DocEntry.Option] in
                guard let source = o.includes else { return [o] }
                guard let other = byName[source], depth < 4 else {
                    throw DocParser.Failure(description: "\(e.name): its options include those of '\(source)', which is not an entry (or includes too deeply)")
                }
                return try options(of: other, depth: depth + 1)
            }
        }
        for a in areas.indices {
            for k in areas[a].entries.indices {
                areas[a].entries[k].options = try options(of: areas[a].entries[k], depth: 0)
            }
        }
    }

    /// Every entry, in reference order.
    public static func entries() throws -> [DocEntry] { try areas().flatMap { $0.entries } }

    /// The entry answering to `name`: exactly, or with `lp.` put in front (`prune.prune`).
    public static func entry(named name: String) throws -> DocEntry? {
        let all = try entries()
        for candidate in [name, "lp." + name] {
            if let e = all.first(where: { $0.names.contains(candidate) }) { return e }
        }
        return nil
    }

    /// Entries whose class is `type` (`Module` gives `Module:forward`, …).
    public static func methods(of type: String) throws -> [DocEntry] {
        try entries().filter { $0.name.hasPrefix(type + ":") }
    }

    /// Entries whose name lies in table `prefix` (`lp.prune` gives `lp.prune.prune`, …).
    public static func members(of prefix: String) throws -> [DocEntry] {
        try entries().filter { e in
            e.names.contains { $0.hasPrefix(prefix + ".") && !$0.dropFirst(prefix.count + 1).contains(".") }
        }
    }

    /// Entries matching every word of `query`, best first: the name's last part equal to
    /// the word, then names containing it, then the text.
    public static func search(_ query: String) throws -> [DocEntry] {
        let words = query.lowercased().split(whereSeparator: { $0 == " " }).map(String.init)
        guard !words.isEmpty else { return [] }
        var scored: [(Int, Int, DocEntry)] = []
        for (k, e) in try entries().enumerated() {
            var total = 0
            for w in words {
                let s = score(e, w)
                if s == 0 { total = 0; break }
                total += s
            }
            if total > 0 { scored.append((total, k, e)) }
        }
        return scored.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }.map { $0.2 }
    }

    static func score(_ e: DocEntry, _ word: String) -> Int {
        let names = e.names.map { $0.lowercased() }
        if names.contains(where: { lastPart($0) == word }) { return 4 }
        if names.contains(where: { lastPart($0).contains(word) }) { return 3 }
        let body = (e.text + " " + e.options.map { "\($0.name) \($0.text)" }.joined(separator: " ")).lowercased()
        return body.contains(word) ? 1 : 0
    }

    static func lastPart(_ name: String) -> Substring {
        name[(name.lastIndex { $0 == "." || $0 == ":" }.map { name.index(after: $0) } ?? name.startIndex)...]
    }
}

/// A recipe on disk and the comment it opens with.
public struct RecipeDoc: Equatable {
    public var path: String
    public var header: String

    /// The recipes in the first `Recipes` folder found: `$LOPPER_RECIPES`, `./Recipes`, or
    /// one beside an ancestor of the executable (a checkout's `.build/release/lopper`).
    public static func all() -> [RecipeDoc] {
        guard let dir = directory() else { return [] }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".lua") }.sorted()
        return files.compactMap { f in
            let path = dir + "/" + f
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            let header = text.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("--") }
                .map { $0.dropFirst(2).trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            return RecipeDoc(path: "Recipes/" + f, header: header)
        }
    }

    /// Recipes whose header or file name holds every word of `query`.
    public static func search(_ query: String) -> [RecipeDoc] {
        let words = query.lowercased().split(separator: " ")
        guard !words.isEmpty else { return [] }
        return all().filter { r in words.allSatisfy { (r.path + " " + r.header).lowercased().contains($0) } }
    }

    static func directory() -> String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let d = ProcessInfo.processInfo.environment["LOPPER_RECIPES"] { candidates.append(d) }
        candidates.append(fm.currentDirectoryPath + "/Recipes")
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("Recipes").path)
            dir.deleteLastPathComponent()
        }
        var isDir: ObjCBool = false
        return candidates.first { fm.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue }
    }
}

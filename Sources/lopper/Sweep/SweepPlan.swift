import Foundation
import LopperLua
import LopperReport

/// A sweep's grid, checked against the recipe's declared settings, and the sweep folder
/// with its manifest and a copy of the recipe.
enum SweepPlan {
    /// `key=v1,v2,…` → an axis; values split at top-level commas (not inside [] or quotes)
    /// and each checked as a `--set` value.
    static func axis(_ spec: String, option: String) throws -> SweepManifest.Axis {
        guard let eq = spec.firstIndex(of: "=") else {
            throw SweepError("\(option) expects key=value1,value2,…, got '\(spec)'")
        }
        let key = String(spec[..<eq]).trimmingCharacters(in: .whitespaces)
        var values: [String] = [], part = "", depth = 0, quote: Character?
        for ch in spec[spec.index(after: eq)...] {
            if let q = quote { part.append(ch); if ch == q { quote = nil }; continue }
            switch ch {
            case "\"", "'": quote = ch; part.append(ch)
            case "[": depth += 1; part.append(ch)
            case "]": depth -= 1; part.append(ch)
            case "," where depth == 0: values.append(part); part = ""
            default: part.append(ch)
            }
        }
        values.append(part)
        values = values.map { $0.trimmingCharacters(in: .whitespaces) }
        for v in values {
            do { _ = try SetValue.parseAssignment(key + "=" + v) }
            catch let e as LuaError { throw SweepError("\(option) \(spec): " + e.message.replacingOccurrences(of: "--set ", with: "")) }
        }
        if let dup = values.first(where: { v in values.filter { $0 == v }.count > 1 }) {
            throw SweepError("\(option) \(key): the value \(dup) is given twice")
        }
        return SweepManifest.Axis(key: key, values: values)
    }

    /// The kind of a recipe default as written (`"x"`, `true`, `{…}`, `12`, `0.5`); nil for an expression.
    static func kind(ofDefault text: String) -> String? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("\"") || t.hasPrefix("'") { return "string" }
        if t == "true" || t == "false" { return "boolean" }
        if t.hasPrefix("{") { return "list" }
        if Int(t) != nil { return "integer" }
        if Double(t) != nil { return "number" }
        return nil
    }

    /// Every grid key and shared setting must be a setting the recipe declares, with values of its kind.
    static func check(recipe path: String, axes: [SweepManifest.Axis], set: [String]) throws {
        guard let data = FileManager.default.contents(atPath: path), let source = String(data: data, encoding: .utf8) else {
            throw SweepError("cannot read the recipe '\(path)'")
        }
        let declared = RecipeHelp.settings(source)
        guard !declared.isEmpty else {
            throw SweepError("\(path) declares no settings (no lp.config{…} block), so there is nothing to sweep")
        }
        let known = declared.map(\.key).joined(separator: ", ")
        var checks: [(option: String, key: String, value: String)] = []
        for a in axes { for v in a.values { checks.append(("--grid", a.key, v)) } }
        for s in set {
            let (key, _) = try parse(s)
            checks.append(("--set", key, String(s.dropFirst(key.count + 1))))
        }
        for c in checks {
            guard let setting = declared.first(where: { $0.key == c.key }) else {
                throw SweepError("\(c.option) \(c.key): \(path) declares no setting '\(c.key)' (its settings: \(known))")
            }
            guard let want = kind(ofDefault: setting.value) else { continue }
            let value = try SetValue.parse(c.value)
            let got: String
            switch value {
            case .integer: got = "integer"
            case .number: got = "number"
            case .boolean: got = "boolean"
            case .string: got = "string"
            case .list: got = "list"
            }
            let fits = want == got || (want == "number" && got == "integer") || want == "list"
            if !fits {
                throw SweepError("\(c.option) \(c.key)=\(c.value): \(path) declares \(c.key) = \(setting.value), a\(want == "integer" ? "n" : "") \(want); got a\(got == "integer" ? "n" : "") \(got)")
            }
        }
    }

    static func parse(_ assignment: String) throws -> (String, SetValue) {
        do { return try SetValue.parseAssignment(assignment) } catch let e as LuaError { throw SweepError(e.message) }
    }

    /// The points: the cartesian product of the grid axes (the first varies slowest), times the zipped axes taken together.
    static func points(grid: [SweepManifest.Axis], zip: [SweepManifest.Axis]) throws -> [SweepManifest.Point] {
        if let n = zip.first?.values.count, let bad = zip.first(where: { $0.values.count != n }) {
            throw SweepError("--zip axes must have as many values each: \(zip[0].key) has \(n), \(bad.key) has \(bad.values.count)")
        }
        var combos: [[String]] = [[]]
        for a in grid { combos = combos.flatMap { c in a.values.map { c + ["\(a.key)=\($0)"] } } }
        if let n = zip.first?.values.count {
            combos = combos.flatMap { c in (0..<n).map { i in c + zip.map { "\($0.key)=\($0.values[i])" } } }
        }
        var names = Set<String>()
        return combos.enumerated().map { i, set in
            var name = String(set.joined(separator: ",").map { ch -> Character in
                ch.isASCII && (ch.isLetter || ch.isNumber || "._=,+-".contains(ch)) ? ch : "_"
            })
            if name.isEmpty { name = "point" }
            if names.contains(name) { name += "-\(i)" }
            names.insert(name)
            return SweepManifest.Point(index: i, name: name, set: set)
        }
    }

    /// Creates runs/<name>/ (never reusing a folder) with the recipe's copy, logs/ and sweep.json.
    static func create(recipe: String, runsDir: String, name: String?, grid: [SweepManifest.Axis], zip: [SweepManifest.Axis],
                       set: [String], x: String?, over: String?, backend: String, threads: Int, jobs: Int) throws -> (String, SweepManifest) {
        let keys = (grid + zip).map(\.key)
        guard !keys.isEmpty else { throw SweepError("expected at least one --grid or --zip axis (e.g. --grid seed=1,2,3)") }
        if let dup = keys.first(where: { k in keys.filter { $0 == k }.count > 1 }) {
            throw SweepError("the setting '\(dup)' is swept twice (one --grid or --zip per setting)")
        }
        for s in set {
            let (key, _) = try parse(s)
            if keys.contains(key) { throw SweepError("--set \(key) is also a grid axis; give it in one place") }
        }
        // x may also be a logged key (remaining weights, say), known only once points ran.
        if let over, !keys.contains(over) {
            throw SweepError("--over \(over): not a grid axis (the axes: \(keys.joined(separator: ", ")))")
        }
        if let x, x == over { throw SweepError("--x and --over both name '\(x)'") }
        try check(recipe: recipe, axes: grid + zip, set: set)
        let points = try points(grid: grid, zip: zip)
        let recipeName = URL(fileURLWithPath: recipe).deletingPathExtension().lastPathComponent
        let sweepName: String
        do { sweepName = try RunFolder.folderName(name ?? "\(recipeName)-sweep-\(RunFolder.stamp(Date()))", root: runsDir) }
        catch let e as RunFolderError { throw SweepError(String(e.description.dropFirst("lopper: ".count))) }
        let fm = FileManager.default
        let folder = runsDir + "/" + sweepName
        guard (try? fm.createDirectory(atPath: folder, withIntermediateDirectories: false)) != nil else {
            throw SweepError("\(folder) exists already: continue it with `lopper sweep --resume \(folder)`, or choose another --name")
        }
        try fm.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: false)
        let copy = URL(fileURLWithPath: recipe).lastPathComponent
        try fm.copyItem(atPath: recipe, toPath: folder + "/" + copy)
        let manifest = SweepManifest(name: sweepName, recipe: recipeName, script: copy, created: iso8601(Date()), grid: grid,
                                     zip: zip, set: set, x: x, over: over, backend: backend, threads: threads, jobs: jobs, points: points)
        try manifest.save(folder)
        return (folder, manifest)
    }

    static func iso8601(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: d)
    }
}

struct SweepError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = "lopper sweep: " + d }
}

import Foundation
import LopperLua
import LopperReport

/// A sweep written down: a Lua file calling `sweep{…}` with what the command line would
/// give, so a paper's figure is a file in the repository:
///
///     sweep{
///       recipe = "../Recipes/pruning_at_init.lua",     -- relative to this file
///       grid = {"method=snip,grasp,synflow", "compression=10,100,1000", {"seed", 1, 2, 3}},
///       set = {iterations = 200},
///       name = "synflow_figure", jobs = 2,
///       slurm = {partition = "cpu", time = "2:00:00", cpus_per_task = 4},
///     }
///
/// It runs in the sandbox (no programs, no files written), so reading it does nothing else.
struct SweepFile {
    var recipe: String
    var grid: [String] = []
    var zip: [String] = []
    var set: [String] = []
    var name: String?
    var runsDir: String?
    var jobs: Int?
    var threads: Int?
    var x: String?
    var over: String?
    var failFast = false
    var slurm: [String: JSONValue]?

    static let keys = ["recipe", "grid", "zip", "set", "name", "runs_dir", "jobs", "threads", "x", "over", "fail_fast", "slurm"]
    static let slurmKeys = ["partition", "time", "cpus_per_task", "mem", "throttle"]

    /// Whether `path` is a sweep file (it calls sweep{…}) rather than a recipe.
    static func isSweepFile(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { line in
            let l = line.trimmingCharacters(in: .whitespaces)
            return l.hasPrefix("sweep{") || l.hasPrefix("sweep {") || l.hasPrefix("return sweep")
        }
    }

    static func read(_ path: String) throws -> SweepFile {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let json: String
        do {
            let host = try LuaHost(sandbox: Sandbox(readRoots: [dir], writeRoots: []))
            try host.run("function sweep(spec) _sweep_spec = lp.json(spec) end", chunkName: "=sweep")
            try host.runFile(path)
            json = try host.eval("_sweep_spec").first ?? "nil"
        } catch let e as LuaScriptError {
            throw SweepError("\(path): " + (e.message.split(separator: "\n").first.map(String.init) ?? e.message))
        }
        guard json != "nil", let spec = try? JSONValue.parse(Data(json.utf8), source: path), let o = spec.object else {
            throw SweepError("\(path) never called sweep{…} with a table")
        }
        func fail(_ what: String) -> SweepError { SweepError("\(path): sweep{…}: " + what) }
        if let bad = o.keys.sorted().first(where: { !keys.contains($0) }) {
            throw fail("unknown key '\(bad)' (known: \(keys.joined(separator: ", ")))")
        }
        guard let recipe = o["recipe"]?.string else { throw fail("expected recipe = \"path/to/recipe.lua\"") }
        // A recipe path is relative to the sweep file, as an include would be.
        let besides = URL(fileURLWithPath: dir + "/" + recipe).standardized.path
        var file = SweepFile(recipe: recipe.hasPrefix("/") || !FileManager.default.fileExists(atPath: besides) ? recipe : besides)
        file.grid = try axes(o["grid"], "grid", fail)
        file.zip = try axes(o["zip"], "zip", fail)
        switch o["set"] {
        case nil: break
        case .array(let items)?:
            file.set = try items.map { guard let s = $0.string else { throw fail("set: expected \"key=value\" strings or {key = value}") }; return s }
        case .object(let map)?:
            file.set = map.keys.sorted().map { "\($0)=" + value(map[$0]!) }
        default: throw fail("set: expected {key = value, …} or a list of \"key=value\"")
        }
        func text(_ key: String) throws -> String? {
            guard let v = o[key] else { return nil }
            guard let s = v.string else { throw fail("\(key) must be a string, got \(v.text)") }
            return s
        }
        func count(_ key: String, in table: [String: JSONValue]? = nil) throws -> Int? {
            guard let v = (table ?? o)[key] else { return nil }
            guard let d = v.number, d == d.rounded(), d >= 1, d <= 4096 else { throw fail("\(key) must be a whole number from 1 to 4096, got \(v.text)") }
            return Int(d)
        }
        (file.name, file.runsDir, file.x, file.over) = (try text("name"), try text("runs_dir"), try text("x"), try text("over"))
        (file.jobs, file.threads) = (try count("jobs"), try count("threads"))
        if let v = o["fail_fast"] {
            guard case .bool(let b) = v else { throw fail("fail_fast must be true or false, got \(v.text)") }
            file.failFast = b
        }
        if let s = o["slurm"] {
            guard let table = s.object else { throw fail("slurm must be a table {partition = …, time = …}, got \(s.text)") }
            if let bad = table.keys.sorted().first(where: { !slurmKeys.contains($0) }) {
                throw fail("slurm: unknown key '\(bad)' (known: \(slurmKeys.joined(separator: ", ")))")
            }
            _ = try count("cpus_per_task", in: table)
            _ = try count("throttle", in: table)
            file.slurm = table
        }
        return file
    }

    /// Axes as command-line text: "key=a,b" strings, or {"key", a, b} lists.
    static func axes(_ v: JSONValue?, _ key: String, _ fail: (String) -> SweepError) throws -> [String] {
        guard let v else { return [] }
        guard let items = v.array else { throw fail("\(key): expected a list of \"key=v1,v2\" or {\"key\", v1, v2}, got \(v.text)") }
        return try items.map { item in
            if let s = item.string { return s }
            if let list = item.array, let k = list.first?.string, list.count > 1 {
                return k + "=" + list.dropFirst().map(value).joined(separator: ",")
            }
            throw fail("\(key): expected \"key=v1,v2\" or {\"key\", v1, v2}, got \(item.text)")
        }
    }

    /// A value as `--set` reads it back (strings quoted, so "a b" stays one string).
    static func value(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return s.allSatisfy({ $0.isLetter || $0.isNumber || "_.-/".contains($0) }) && !s.isEmpty ? s : "\"" + s + "\""
        case .array(let a): return "[" + a.map(value).joined(separator: ",") + "]"
        default: return v.text
        }
    }
}

import Foundation

/// What a run folder holds, read back for its report: the settings (config.json), every
/// `lp.log` record (metrics.jsonl), the tables (tables.jsonl), the recipe's own plots
/// (plots.jsonl), the final masks (layers.json) and the run's state (status.json).
public struct RunRecord {
    public struct Table { public var title: String; public var columns: [String]; public var rows: [[String]] }
    public struct Layer { public var name: String; public var params: Int; public var nonzero: Int; public var density: Double }

    public var path: String
    public var name: String { URL(fileURLWithPath: path).lastPathComponent }
    public var recipe = ""
    public var started = ""
    public var status = "unknown"
    public var lopperVersion = ""
    public var scriptHash = ""
    public var settings: [String: JSONValue] = [:]
    public var records: [[String: JSONValue]] = []
    public var tables: [Table] = []
    public var plots: [[String: JSONValue]] = []
    public var layers: [Layer] = []

    /// Reads a run folder; a missing or malformed file is an error naming it and the line.
    public init(path: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw ReportError("report: '\(path)' is not a run folder (no such folder)")
        }
        guard let configData = FileManager.default.contents(atPath: path + "/config.json") else {
            throw ReportError("report: '\(path)' is not a run folder: it has no config.json")
        }
        let config = try JSONValue.parse(configData, source: path + "/config.json")
        guard let object = config.object else { throw ReportError("report: \(path)/config.json is not a JSON object") }
        recipe = object["recipe"]?.string ?? name
        started = object["started"]?.string ?? ""
        lopperVersion = object["lopper_version"]?.string ?? ""
        scriptHash = object["script_hash"]?.string ?? ""
        settings = object["settings"]?.object ?? [:]
        if let s = FileManager.default.contents(atPath: path + "/status.json") {
            status = try JSONValue.parse(s, source: path + "/status.json")["status"]?.string ?? status
        }
        records = try Self.lines(path + "/metrics.jsonl").map { $0.object ?? [:] }
        for t in try Self.lines(path + "/tables.jsonl") {
            tables.append(Table(title: t["title"]?.string ?? "",
                                columns: t["columns"]?.array?.map { $0.text } ?? [],
                                rows: t["rows"]?.array?.map { $0.array?.map { $0.text } ?? [] } ?? []))
        }
        plots = try Self.lines(path + "/plots.jsonl").compactMap { $0.object }
        if let data = FileManager.default.contents(atPath: path + "/layers.json") {
            for l in try JSONValue.parse(data, source: path + "/layers.json").array ?? [] {
                layers.append(Layer(name: l["name"]?.string ?? "?", params: Int(l["params"]?.number ?? 0),
                                    nonzero: Int(l["nonzero"]?.number ?? 0), density: l["density"]?.number ?? 0))
            }
        }
    }

    /// The values of a JSON-lines file (none if it is missing). A half-written last line
    /// (a run killed mid-write) is skipped; a bad line elsewhere is an error.
    public static func lines(_ file: String) throws -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        var out: [JSONValue] = []
        for (i, line) in lines.enumerated() {
            do { out.append(try JSONValue.parse(Data(line.utf8), source: "\(file) line \(i + 1)")) }
            catch where i == lines.count - 1 && !data.isEmpty && data.last != UInt8(ascii: "\n") { break }
        }
        return out
    }
}

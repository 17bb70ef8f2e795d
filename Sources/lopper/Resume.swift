import Foundation
import LopperReport

/// `lopper run --resume RUN`: the run's own script copy and settings, checked and made
/// ready. Cells finished before the stop come back from the cache and replay what they
/// printed and logged, so the run's files are rebuilt as an uninterrupted run writes them.
struct Resume {
    let folder: String
    let script: String
    let settings: [String]
    let cache: String

    /// Files the replay writes again.
    static let replayed = ["metrics.jsonl", "tables.jsonl", "plots.jsonl", "cells.jsonl", "layers.json", "output.log"]

    static func prepare(_ path: String) throws -> Resume {
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw RunFolderError("--resume: no run folder '\(folder)'")
        }
        guard let data = fm.contents(atPath: folder + "/config.json"),
              let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw RunFolderError("--resume: '\(folder)' is not a run folder or is damaged: config.json is missing or not JSON")
        }
        guard let scriptPath = config["script"] as? String else {
            throw RunFolderError("--resume: \(folder)/config.json names no script")
        }
        let script = folder + "/" + URL(fileURLWithPath: scriptPath).lastPathComponent
        guard fm.fileExists(atPath: script) else {
            throw RunFolderError("--resume: the run's copy of its script, \(script), is missing")
        }
        if let s = fm.contents(atPath: folder + "/status.json"),
           let status = (try? JSONSerialization.jsonObject(with: s) as? [String: Any])?["status"] as? String, status == "finished" {
            throw RunFolderError("--resume: \(folder) finished; there is nothing to resume (start a new run)")
        }
        let cache = URL(fileURLWithPath: folder).deletingLastPathComponent().path + "/.cache"
        // Every finished cell must still be in the cache, or its results are gone.
        // (A line cut short by the kill is the cell that did not finish: the reader skips it.)
        let cells: [JSONValue]
        do { cells = try RunRecord.lines(folder + "/cells.jsonl") }
        catch let e as ReportError { throw RunFolderError("--resume: \(e.description)") }
        for (i, cell) in cells.enumerated() {
            guard let key = cell["key"]?.string, let name = cell["name"]?.string else {
                throw RunFolderError("--resume: \(folder)/cells.jsonl line \(i + 1) is damaged")
            }
            guard fm.fileExists(atPath: cache + "/" + key + "/cell.lua") else {
                throw RunFolderError("--resume: cell '\(name)' finished before the stop, but its cache entry \(cache)/\(key) is missing; start the run again instead")
            }
        }
        for file in replayed { try? fm.removeItem(atPath: folder + "/" + file) }
        return Resume(folder: folder, script: script, settings: config["set"] as? [String] ?? [], cache: cache)
    }
}

import Foundation
import LopperLua

/// The folder a run leaves behind: runs/<recipe>-<YYYYMMDD-HHMMSS>[-N]/ holding the config,
/// metrics, output, checkpoints/ and the report (written by the Lua side of `lp`).
struct RunFolder {
    let path: String

    /// Creates a fresh folder under `root` (never reusing one: -2, -3… on a clash) with a
    /// copy of the script.
    static func create(root: String, script: String, name: String?, now: Date = Date()) throws -> RunFolder {
        let recipe = URL(fileURLWithPath: script).deletingPathExtension().lastPathComponent
        let base = try folderName(name ?? "\(recipe)-\(stamp(now))", root: root)
        let fm = FileManager.default
        var candidate = root + "/" + base, n = 1
        // createDirectory without intermediates fails if it exists: the claim is atomic.
        while (try? fm.createDirectory(atPath: candidate, withIntermediateDirectories: false)) == nil {
            n += 1
            guard n < 1000 else { throw RunFolderError("cannot create a run folder under '\(root)'") }
            candidate = root + "/" + base + "-\(n)"
        }
        try fm.createDirectory(atPath: candidate + "/checkpoints", withIntermediateDirectories: false)
        try fm.copyItem(atPath: script, toPath: candidate + "/" + URL(fileURLWithPath: script).lastPathComponent)
        return RunFolder(path: candidate)
    }

    /// YYYYMMDD-HHMMSS in UTC, the time part of a default folder name.
    static func stamp(_ now: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: now)
    }

    /// `name`, checked to be one folder name, with `root` created to hold it.
    static func folderName(_ name: String, root: String) throws -> String {
        guard !name.isEmpty, !name.contains("/") else { throw RunFolderError("--name must be a folder name without '/', got '\(name)'") }
        do { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
        catch { throw RunFolderError("cannot create the runs folder '\(root)': \(error.localizedDescription)") }
        return name
    }

    /// The script's hash: enough to tell two versions of a recipe apart.
    static func hash(_ path: String) -> String {
        ContentHash.fnv1a(FileManager.default.contents(atPath: path) ?? Data())
    }
}

struct RunFolderError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = "lopper: " + d }
}

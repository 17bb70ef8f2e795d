import Foundation
import LopperReport

/// How one point runs, on either backend: `lopper run` on the sweep's copy of the recipe
/// with the point's settings, its run folder under the sweep folder, or `lopper run
/// --resume` on that folder when it has one.
enum SweepPoints {
    /// This lopper binary, by absolute path (points and Slurm tasks run the same one).
    static let executable: String = {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }()

    static func folder(_ sweep: String, _ p: SweepManifest.Point) -> String { sweep + "/" + p.name }
    static func log(_ sweep: String, _ p: SweepManifest.Point) -> String { sweep + "/logs/\(p.index).log" }

    /// The command line of point `p`. A folder without config.json holds no finished work
    /// (the point died while starting): it is removed and the point starts again.
    static func arguments(sweep: String, manifest: SweepManifest, point p: SweepManifest.Point, threads: Int) -> [String] {
        let dir = folder(sweep, p)
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/config.json") {
            return [executable, "run", "--resume", dir, "--threads", String(threads)]
        }
        try? fm.removeItem(atPath: dir)
        return [executable, "run", sweep + "/" + manifest.script, "--runs-dir", sweep, "--name", p.name,
                "--threads", String(threads)] + (manifest.set + p.set).flatMap { ["--set", $0] }
    }

    /// The environment of a point: progress lines every 2 s in its log (the sweep shows the last).
    static func environment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["LOPPER_PROGRESS_EVERY"] = "2"
        env["LOPPER_NUM_THREADS"] = nil
        return env
    }

    /// The error a failed point's log ends with: the line before the traceback, or the last line.
    static func error(fromLog path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let lines = String(decoding: data.suffix(16_384), as: UTF8.self).split(separator: "\n").map(String.init)
        if let i = lines.lastIndex(of: "stack traceback:"), i > 0 { return lines[i - 1] }
        return lines.last { !$0.hasPrefix("lopper: run folder") && !$0.hasPrefix("lopper: resuming") && !$0.isEmpty }
    }

    /// The last line a point wrote (its progress), for the live display.
    static func lastLine(_ path: String) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? h.close() }
        let size = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: size > 400 ? size - 400 : 0)
        let text = String(decoding: h.readDataToEndOfFile(), as: UTF8.self)
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).last.map(String.init) ?? ""
    }

    /// Whether `pid` is a live lopper process (not gone, not a zombie nobody reaped, not a reused pid).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        return state != "Z" && state != "X" && command.contains("lopper")
    }

    /// The state of every point as its run folder records it (a local "running" point whose
    /// process is gone was killed: "stopped").
    static func refresh(_ m: inout SweepManifest, sweep: String) {
        for i in m.points.indices {
            let p = m.points[i]
            guard let state = SweepManifest.folderState(folder(sweep, p)) else {
                if p.state != "failed" { m.points[i].state = "waiting" }   // a failure before its folder existed stays
                continue
            }
            switch state {
            case "finished": m.points[i].state = "finished"; m.points[i].error = nil
            case "failed":
                m.points[i].state = "failed"
                if m.points[i].error == nil { m.points[i].error = error(fromLog: log(sweep, p)) }
            case "running", "started":
                // Slurm's queue has the last word on its tasks (SlurmSweep.merge).
                let alive = m.backend == "slurm" || p.pid.map(isRunning) == true
                m.points[i].state = alive ? "running" : "stopped"
            default: m.points[i].state = "stopped"
            }
        }
    }
}

import Foundation
import LopperReport

/// The Slurm backend: one job array, one task per point, each task `lopper sweep --task`
/// on the shared sweep folder (which runs the point as the local backend does). Slurm does
/// the scheduling; the states come back from the run folders and from squeue (and sacct,
/// where the cluster keeps accounting).
struct SlurmSweep {
    let folder: String
    var manifest: SweepManifest

    /// The sbatch script: the array itself is given at submission (`--array=0-7%4`, or the missing points).
    static func script(folder: String, manifest: SweepManifest) -> String {
        var lines = ["#!/bin/bash",
                     "# Written by lopper sweep: one array task per point of \(folder)/sweep.json;",
                     "# each task runs its point with `lopper run` (or --resume) in \(folder)/<point>/.",
                     "#SBATCH --job-name=lopper-\(manifest.name)",
                     "#SBATCH --output=\(folder)/logs/%a.log"]
        for o in manifest.slurm?.options ?? [] { lines.append("#SBATCH --\(o[0])=\(o[1])") }
        lines.append("exec \(shellQuote(SweepPoints.executable)) sweep --task \(shellQuote(folder))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-=+,".contains($0) }) ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// "0-3,5,7-9" for the indices, with the throttle (%N) if any.
    static func arraySpec(_ indices: [Int], throttle: Int?) -> String {
        var parts: [String] = [], i = 0
        let s = indices.sorted()
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(j > i ? "\(s[i])-\(s[j])" : "\(s[i])")
            i = j + 1
        }
        return parts.joined(separator: ",") + (throttle.map { "%\($0)" } ?? "")
    }

    /// The indices an array spec names (the inverse of arraySpec).
    static func indices(_ spec: String) -> [Int] {
        let body = spec.split(separator: "%").first ?? ""
        return body.split(separator: ",").flatMap { part -> [Int] in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            return ends.count == 2 && ends[0] <= ends[1] ? Array(ends[0]...ends[1]) : ends
        }
    }

    /// Where a command is on PATH, if anywhere.
    static func which(_ command: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(command)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs a Slurm command; returns its status and output (standard output and error together).
    static func run(_ command: String, _ args: [String]) throws -> (status: Int32, output: String) {
        guard let path = which(command) else {
            throw SweepError("`\(command)` is not on PATH: the Slurm backend needs Slurm's client commands (sbatch, squeue; Debian: slurm-client) on a machine of the cluster")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Writes sweep.sbatch and submits the points `indices` as one array; returns the job id.
    mutating func submit(_ indices: [Int]) throws -> String {
        let file = folder + "/sweep.sbatch"
        try Data(Self.script(folder: folder, manifest: manifest).utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        let spec = Self.arraySpec(indices, throttle: manifest.slurm?.throttle)
        let (status, output) = try Self.run("sbatch", ["--parsable", "--array=" + spec, file])
        guard status == 0, let job = output.split(separator: "\n").last?.split(separator: ";").first, Int(job) != nil else {
            throw SweepError("sbatch --parsable --array=\(spec) \(file) failed (exit status \(status)): \(output.isEmpty ? "no output" : output)")
        }
        manifest.slurm?.submissions.append(.init(job: String(job), array: spec, submitted: SweepPlan.iso8601(Date())))
        for i in indices {
            manifest.points[i].state = "queued"
            manifest.points[i].error = nil
        }
        try manifest.save(folder)
        return String(job)
    }

    /// Each point's latest task: (job id, array index).
    func tasks() -> [Int: String] {
        var out: [Int: String] = [:]
        for s in manifest.slurm?.submissions ?? [] { for i in Self.indices(s.array) { out[i] = s.job } }
        return out
    }

    /// Reads the run folders, then the queue: a task in squeue is queued or running; one
    /// gone from it whose folder did not finish was cancelled, timed out or died (sacct says which, if it can).
    mutating func refresh() throws {
        SweepPoints.refresh(&manifest, sweep: folder)
        let tasks = tasks()
        let jobs = Array(Set(tasks.values)).sorted()
        guard !jobs.isEmpty else { return }
        var queued: [String: String] = [:]
        let (status, output) = try Self.run("squeue", ["-h", "-r", "-j", jobs.joined(separator: ","), "-o", "%i %T"])
        if status == 0 {
            for line in output.split(separator: "\n") {
                let f = line.split(separator: " ")
                if f.count == 2 { queued[String(f[0])] = String(f[1]) }
            }
        } else if !output.contains("Invalid job id") {
            throw SweepError("squeue failed (exit status \(status)): \(output)")
        }
        var accounted: [String: String] = [:]
        if Self.which("sacct") != nil, let (s, out) = try? Self.run("sacct", ["-n", "-P", "-X", "-j", jobs.joined(separator: ","), "-o", "JobID,State"]), s == 0 {
            for line in out.split(separator: "\n") {
                let f = line.split(separator: "|")
                if f.count == 2 { accounted[String(f[0])] = String(f[1].split(separator: " ").first ?? "") }
            }
        }
        for i in manifest.points.indices {
            guard let job = tasks[i] else { continue }
            let id = "\(job)_\(i)"
            let state = manifest.points[i].state
            if let q = queued[id] {
                if state != "finished" && state != "failed" { manifest.points[i].state = q == "PENDING" ? "queued" : q == "RUNNING" || q == "COMPLETING" ? "running" : q.lowercased() }
            } else if state == "queued" || state == "running" || state == "waiting" || state == "stopped" {
                let why = accounted[id].map { " (Slurm: \($0))" } ?? ""
                manifest.points[i].state = "stopped"
                manifest.points[i].error = "not in Slurm's queue and not finished\(why); `lopper sweep --resume` submits it again"
            }
        }
    }
}

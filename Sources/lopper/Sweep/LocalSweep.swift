import Foundation
import LopperReport

/// How many times SIGINT/SIGTERM came while a local sweep runs (the second kills the points).
nonisolated(unsafe) private var stopSignal: Int32 = 0

/// The local backend: up to `jobs` points at once, each `lopper run` in its own process
/// group (so Ctrl-C reaches the sweep, which stops every point once, cleanly), output to
/// logs/<index>.log; sweep.json and the merged report are rewritten as each point ends.
struct LocalSweep {
    let folder: String
    var manifest: SweepManifest
    let jobs: Int
    let threads: Int
    let failFast: Bool

    struct Running { var point: Int; var started: Date }

    /// Runs every point that has not finished; returns the exit status (0: all finished).
    mutating func run() throws -> Int32 {
        SweepPoints.refresh(&manifest, sweep: folder)
        var queue = manifest.points.indices.filter { manifest.points[$0].state != "finished" }
        let total = manifest.points.count
        var running: [pid_t: Running] = [:]
        var failed = false
        let started = Date()
        let tty = isatty(2) != 0
        var drawn = 0
        stopSignal = 0
        signal(SIGINT) { _ in stopSignal += 1 }
        signal(SIGTERM) { _ in stopSignal += 1 }
        defer { signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL) }
        var forwarded = false, killed = false, lastDraw = Date.distantPast
        say("lopper sweep: \(folder): \(queue.count) of \(total) points to run, \(jobs) at a time, \(threads) thread(s) each")

        func finished(_ pid: pid_t, status: Int32) throws {
            guard let r = running.removeValue(forKey: pid) else { return }
            let p = manifest.points[r.point]
            let seconds = Date().timeIntervalSince(r.started)
            let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
            var state = SweepManifest.folderState(SweepPoints.folder(folder, p)) ?? "failed"
            if state != "finished" { state = (exited && code == 130) || stopSignal != 0 ? "stopped" : "failed" }
            manifest.points[r.point].state = state
            manifest.points[r.point].seconds = (p.seconds ?? 0) + seconds
            manifest.points[r.point].pid = nil
            manifest.points[r.point].error = state == "failed"
                ? (SweepPoints.error(fromLog: SweepPoints.log(folder, p)) ?? (exited ? "exit status \(code)" : "killed by signal \(status & 0x7f)"))
                : nil
            if state == "failed" { failed = true }
            clear()
            let done = manifest.points.filter { $0.state == "finished" }.count
            var line = "  [\(done)/\(total)] \(p.name): \(state) in \(String(format: "%.1f", seconds)) s"
            if let e = manifest.points[r.point].error { line += ": " + e }
            say(line)
            try save()
        }
        func clear() {
            guard tty, drawn > 0 else { return }
            FileHandle.standardError.write(Data("\u{1B}[\(drawn)A\u{1B}[J".utf8))
            drawn = 0
        }
        func draw() {
            guard tty, Date().timeIntervalSince(lastDraw) >= 0.5 else { return }
            lastDraw = Date()
            clear()
            var lines = running.values.sorted { $0.point < $1.point }.map { r -> String in
                let p = manifest.points[r.point]
                let line = SweepPoints.lastLine(SweepPoints.log(folder, p))
                return String("  \(p.name) \(clock(Date().timeIntervalSince(r.started)))\(line.isEmpty ? "" : ": " + line)".prefix(150))
            }
            let done = manifest.points.filter { $0.state == "finished" }.count
            let bad = manifest.points.filter { $0.state == "failed" }.count
            lines.append("sweep \(manifest.name): \(done)/\(total) finished, \(running.count) running, \(bad) failed, \(queue.count) waiting · "
                         + clock(Date().timeIntervalSince(started)))
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            drawn = lines.count
        }

        while !queue.isEmpty || !running.isEmpty {
            let stopping = stopSignal != 0 || (failFast && failed)
            if stopping && !forwarded {
                forwarded = true
                clear()
                say(stopSignal != 0 ? "lopper sweep: stopping every point (their finished cells are kept)"
                                    : "lopper sweep: a point failed; stopping the others (--fail-fast)")
                for pid in running.keys { kill(-pid, SIGINT) }
            }
            if stopSignal > 1 && !killed {
                killed = true
                say("lopper sweep: a second stop: killing every point (resume replays their finished cells)")
                for pid in running.keys { kill(-pid, SIGKILL) }
            }
            while !stopping && running.count < jobs && !queue.isEmpty {
                let i = queue.removeFirst()
                let p = manifest.points[i]
                let args = SweepPoints.arguments(sweep: folder, manifest: manifest, point: p, threads: threads)
                let pid = try spawn(args, log: SweepPoints.log(folder, p))
                running[pid] = Running(point: i, started: Date())
                manifest.points[i].state = "running"
                manifest.points[i].pid = pid
                manifest.points[i].error = nil
                try save()
            }
            if stopping { queue.removeAll() }
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { try finished(pid, status: status); continue }
            draw()
            usleep(100_000)
        }
        clear()
        try save()
        let done = manifest.points.filter { $0.state == "finished" }.count
        let stopped = stopSignal != 0
        say("lopper sweep: \(done) of \(total) points finished in \(clock(Date().timeIntervalSince(started))); report \(folder)/report.html")
        if done < total {
            say("lopper sweep: \(stopped ? "stopped" : "not every point finished"); finish the rest with: lopper sweep --resume \(folder)")
        }
        return stopped ? 130 : done == total ? 0 : 1
    }

    /// Writes sweep.json and the merged report.
    func save() throws {
        try manifest.save(folder)
        do { try SweepReport(folder: folder).write() } catch let e as ReportError { say("lopper sweep: the report was not written: \(e)") }
    }

    /// Starts `args` in a process group of its own, standard output and error to `log`.
    func spawn(_ args: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults); sigaddset(&defaults, SIGINT); sigaddset(&defaults, SIGTERM)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = args.map { strdup($0) } + [nil]
        let envp = SweepPoints.environment().map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &actions, &attr, argv, envp)
        guard rc == 0 else { throw SweepError("cannot start \(args[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}

func say(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}

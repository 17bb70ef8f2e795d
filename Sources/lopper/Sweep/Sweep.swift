import ArgumentParser
import Foundation
import LopperReport

/// `lopper sweep R.lua --grid k=a,b --grid k2=1,2 [--zip …] [--jobs N | --slurm …]`,
/// `lopper sweep --resume RUNS/NAME`, `lopper sweep --status RUNS/NAME [--wait]`.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a recipe over a grid of settings: in parallel here, or as a Slurm job array.",
        discussion: """
        Each point of the grid (the cartesian product of the --grid axes, times the --zip axes \
        taken together) is an ordinary run folder <runs-dir>/<name>/<point>/, e.g. \
        runs/pai/method=snip,density=0.1,seed=1/. The sweep folder holds sweep.json (the grid \
        and each point's state), logs/<index>.log (each point's output) and report.html / \
        report.md: every metric against the x axis, one line per series, the mean over seeds \
        with ±1 std shaded, and the table of every point. `lopper report <runs-dir>/<name>` \
        renders it again.
        """)

    @Argument(help: "The recipe to sweep, or a sweep file (a Lua file calling sweep{recipe = …, grid = {…}, …}).")
    var script: String?

    @Option(name: .customLong("grid"), help: ArgumentHelp("An axis of the grid: a setting the recipe declares and its values (repeatable).", valueName: "key=v1,v2,…"))
    var grid: [String] = []

    @Option(name: .customLong("zip"), help: ArgumentHelp("Axes taken together, i-th value with i-th value (repeatable; all of one length).", valueName: "key=v1,v2,…"))
    var zip: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("A setting every point shares (repeatable).", valueName: "key=value"))
    var settings: [String] = []

    @Option(help: "Where the sweep folder goes.")
    var runsDir = "runs"

    @Option(help: "The sweep folder's name (default: <recipe>-sweep-<YYYYMMDD-HHMMSS>).")
    var name: String?

    @Option(help: ArgumentHelp("Points run at once (default: the CPUs / --threads).", valueName: "n"))
    var jobs: Int?

    @Option(help: ArgumentHelp("Worker threads of each point (default: the CPUs / --jobs, else 1).", valueName: "n"))
    var threads: Int?

    @Flag(help: "Stop every point when one fails (default: the others go on).")
    var failFast = false

    @Option(help: ArgumentHelp("The report's x axis: a grid key or a logged key (default: density, sparsity, compression… or the first numeric axis).", valueName: "key"))
    var x: String?

    @Option(help: ArgumentHelp("The grid key the report averages over (default: seed).", valueName: "key"))
    var over: String?

    @Flag(help: "Print the points (and with --slurm the sbatch script) without running anything.")
    var dryRun = false

    @Flag(help: "Submit the points as one Slurm job array (sbatch) instead of running them here.")
    var slurm = false

    @Option(help: "Slurm partition (sbatch --partition).")
    var partition: String?

    @Option(help: "Slurm time limit of each task, e.g. 2:00:00 (sbatch --time).")
    var time: String?

    @Option(help: "CPUs of each task (sbatch --cpus-per-task; each point uses that many threads).")
    var cpusPerTask: Int?

    @Option(help: "Memory of each task, e.g. 8G (sbatch --mem).")
    var mem: String?

    @Option(help: ArgumentHelp("Most array tasks running at once (the array's %N).", valueName: "n"))
    var throttle: Int?

    @Option(help: ArgumentHelp("Finish a stopped sweep: run (or submit) only the points that did not finish.", valueName: "sweep-folder"))
    var resume: String?

    @Option(help: ArgumentHelp("Show each point's state (from its run folder, and Slurm's queue) and write the report.", valueName: "sweep-folder"))
    var status: String?

    @Flag(help: "With --status (or --slurm): wait until no point is queued or running.")
    var wait = false

    @Option(help: .hidden)
    var task: String?

    func validate() throws {
        let modes = [script != nil, resume != nil, status != nil, task != nil].filter { $0 }.count
        if modes == 0 { throw ValidationError("expected a recipe to sweep, --resume SWEEP or --status SWEEP") }
        if modes > 1 { throw ValidationError("give one of: a recipe, --resume, --status") }
        if script == nil && (!grid.isEmpty || !zip.isEmpty || !settings.isEmpty) {
            throw ValidationError("--grid, --zip and --set define a new sweep: give the recipe (a resumed sweep keeps its grid)")
        }
        if let jobs, jobs < 1 || jobs > 4096 { throw ValidationError("--jobs: expected 1 to 4096, got \(jobs)") }
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads: expected 1 to 1024, got \(threads)") }
        if let cpusPerTask, cpusPerTask < 1 || cpusPerTask > 4096 { throw ValidationError("--cpus-per-task: expected 1 to 4096, got \(cpusPerTask)") }
        if let throttle, throttle < 1 { throw ValidationError("--throttle: expected a positive number of tasks, got \(throttle)") }
        let slurmOnly = [partition != nil, time != nil, cpusPerTask != nil, mem != nil, throttle != nil].contains(true)
        if slurmOnly && !slurm { throw ValidationError("--partition, --time, --cpus-per-task, --mem and --throttle are Slurm options: add --slurm") }
        if slurm && jobs != nil { throw ValidationError("--jobs is for local sweeps; Slurm runs the array (limit it with --throttle)") }
    }

    func run() throws {
        do {
            if let task { return try runTask(task) }
            if let status { throw ExitCode(try showStatus(Self.absolute(status))) }
            if let resume { throw ExitCode(try resumeSweep(Self.absolute(resume))) }
            if let script, SweepFile.isSweepFile(script) {
                var fromFile = self
                fromFile.apply(try SweepFile.read(script))
                throw ExitCode(try fromFile.startSweep())
            }
            throw ExitCode(try startSweep())
        } catch let e as SweepError {
            say(e.description)
            throw ExitCode(1)
        } catch let e as ReportError {
            say("lopper " + e.description)
            throw ExitCode(1)
        }
    }

    /// A sweep file's settings, under what the command line gives (its axes and --set add to the file's).
    mutating func apply(_ file: SweepFile) {
        script = file.recipe
        grid = file.grid + grid
        zip = file.zip + zip
        settings = file.set + settings
        if let n = file.runsDir, runsDir == "runs" { runsDir = n }
        name = name ?? file.name
        jobs = jobs ?? (slurm ? nil : file.jobs)
        threads = threads ?? file.threads
        x = x ?? file.x
        over = over ?? file.over
        failFast = failFast || file.failFast
        if slurm, let t = file.slurm {
            partition = partition ?? t["partition"]?.string
            time = time ?? t["time"]?.string
            mem = mem ?? t["mem"]?.string
            cpusPerTask = cpusPerTask ?? t["cpus_per_task"]?.number.map { Int($0) }
            throttle = throttle ?? t["throttle"]?.number.map { Int($0) }
        }
    }

    static func absolute(_ path: String) -> String {
        let p = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        return URL(fileURLWithPath: p).standardizedFileURL.path
    }

    /// Threads a point and points at once: fill the CPUs, never oversubscribe them.
    func sizes(defaultThreads: Int = 1) -> (jobs: Int, threads: Int) {
        let cpus = max(1, ProcessInfo.processInfo.activeProcessorCount)
        if slurm { return (1, cpusPerTask ?? threads ?? 1) }
        switch (jobs, threads) {
        case let (j?, t?): return (j, t)
        case let (j?, nil): return (j, max(1, cpus / j))
        case let (nil, t?): return (max(1, cpus / t), t)
        case (nil, nil): return (max(1, cpus / defaultThreads), defaultThreads)
        }
    }

    func startSweep() throws -> Int32 {
        guard let script else { return 1 }
        guard FileManager.default.fileExists(atPath: script) else { throw SweepError("no recipe '\(script)'") }
        let axes = try grid.map { try SweepPlan.axis($0, option: "--grid") }
        let zipped = try zip.map { try SweepPlan.axis($0, option: "--zip") }
        let (jobs, threads) = sizes()
        if dryRun {
            try SweepPlan.check(recipe: script, axes: axes + zipped, set: settings)
            let points = try SweepPlan.points(grid: axes, zip: zipped)
            print("\(points.count) points, \(slurm ? "one Slurm array task each" : "\(jobs) at a time"), \(threads) thread(s) each:")
            for p in points { print("  \(p.index)  \(p.name)") }
            if slurm {
                let recipe = URL(fileURLWithPath: script).deletingPathExtension().lastPathComponent
                var m = SweepManifest(name: name ?? recipe + "-sweep-<stamp>", recipe: recipe, script: "", created: "", grid: axes, zip: zipped,
                                      set: settings, x: x, over: over, backend: "slurm", threads: threads, jobs: 1, points: points)
                m.slurm = .init(options: slurmOptions(threads: threads), throttle: throttle)
                let folder = Self.absolute(runsDir) + "/" + m.name
                print("\nsbatch --parsable --array=\(SlurmSweep.arraySpec(points.map(\.index), throttle: throttle)) \(folder)/sweep.sbatch:")
                print(SlurmSweep.script(folder: folder, manifest: m), terminator: "")
            }
            return 0
        }
        let runs = Self.absolute(runsDir)
        var (folder, manifest) = try SweepPlan.create(recipe: script, runsDir: runs, name: name, grid: axes, zip: zipped, set: settings,
                                                      x: x, over: over, backend: slurm ? "slurm" : "local", threads: threads, jobs: jobs)
        if slurm {
            manifest.slurm = .init(options: slurmOptions(threads: threads), throttle: throttle)
            try manifest.save(folder)
            var s = SlurmSweep(folder: folder, manifest: manifest)
            let job: String
            do { job = try s.submit(manifest.points.map(\.index)) } catch {
                try? FileManager.default.removeItem(atPath: folder)   // nothing ran: leave no half sweep behind
                throw error
            }
            try SweepReport(folder: folder).write()
            print("submitted job \(job): \(manifest.points.count) array tasks; see them with: lopper sweep --status \(folder)")
            return wait ? try showStatus(folder) : 0
        }
        var local = LocalSweep(folder: folder, manifest: manifest, jobs: jobs, threads: threads, failFast: failFast)
        return try local.run()
    }

    /// The #SBATCH options, in the script's order.
    func slurmOptions(threads: Int) -> [[String]] {
        var options: [[String]] = []
        if let partition { options.append(["partition", partition]) }
        if let time { options.append(["time", time]) }
        options.append(["cpus-per-task", String(threads)])
        if let mem { options.append(["mem", mem]) }
        return options
    }

    func resumeSweep(_ folder: String) throws -> Int32 {
        let manifest = try SweepManifest.load(folder)
        if manifest.backend == "slurm" {
            var s = SlurmSweep(folder: folder, manifest: manifest)
            try s.refresh()
            let missing = s.manifest.points.filter { !["finished", "queued", "running"].contains($0.state) }.map(\.index)
            guard !missing.isEmpty else {
                try s.manifest.save(folder)
                print("nothing to resume: every point finished or is in Slurm's queue")
                return 0
            }
            let job = try s.submit(missing)
            try SweepReport(folder: folder).write()
            print("submitted job \(job): \(missing.count) array task(s) (\(SlurmSweep.arraySpec(missing, throttle: nil)))")
            return wait ? try showStatus(folder) : 0
        }
        let (jobs, threads) = sizes(defaultThreads: manifest.threads)
        var local = LocalSweep(folder: folder, manifest: manifest, jobs: jobs, threads: threads, failFast: failFast)
        return try local.run()
    }

    /// Prints every point's state; with --wait, until none is queued or running. 0 when all finished.
    func showStatus(_ folder: String) throws -> Int32 {
        var last = ""
        while true {
            var manifest = try SweepManifest.load(folder)
            if manifest.backend == "slurm" {
                var s = SlurmSweep(folder: folder, manifest: manifest)
                try s.refresh()
                manifest = s.manifest
            } else {
                SweepPoints.refresh(&manifest, sweep: folder)
            }
            try manifest.save(folder)
            let report = try SweepReport(folder: folder)
            try report.write()
            let busy = manifest.points.contains { ["queued", "running"].contains($0.state) }
            if !wait || !busy {
                print("sweep \(manifest.name) (\(manifest.backend)): \(report.stateSummary)")
                for p in manifest.points {
                    print("  \(p.index)  \(p.name)  \(p.state)" + (p.error.map { "  " + $0 } ?? ""))
                }
                print("report: \(folder)/report.html")
                return manifest.points.allSatisfy { $0.state == "finished" } ? 0 : 1
            }
            if report.stateSummary != last { say("sweep \(manifest.name): \(report.stateSummary)"); last = report.stateSummary }
            sleep(2)
        }
    }

    /// A Slurm array task: the point of $SLURM_ARRAY_TASK_ID, run in place of this process.
    func runTask(_ path: String) throws {
        let folder = Self.absolute(path)
        let manifest = try SweepManifest.load(folder)
        let env = ProcessInfo.processInfo.environment
        guard let text = env["SLURM_ARRAY_TASK_ID"], let index = Int(text), manifest.points.indices.contains(index) else {
            throw SweepError("--task expects $SLURM_ARRAY_TASK_ID to be a point index (0 to \(manifest.points.count - 1)), got '\(env["SLURM_ARRAY_TASK_ID"] ?? "")'")
        }
        let threads = env["SLURM_CPUS_PER_TASK"].flatMap(Int.init) ?? manifest.threads
        let args = SweepPoints.arguments(sweep: folder, manifest: manifest, point: manifest.points[index], threads: threads)
        let argv = args.map { strdup($0) } + [nil]
        let envp = SweepPoints.environment().map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(args[0], argv, envp)
        throw SweepError("cannot start \(args[0]): \(String(cString: strerror(errno)))")
    }
}

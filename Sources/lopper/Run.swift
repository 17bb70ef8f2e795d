import ArgumentParser
import Foundation
import LopperLua
import LopperNN

/// `lopper run FILE [--set key=value]... [-- script args]`, or `lopper run --resume RUN`.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Lua script (a recipe).",
        discussion: """
        Arguments after -- reach the script as `...` and in the global `arg`. Each run leaves a \
        folder <runs-dir>/<recipe>-<YYYYMMDD-HHMMSS>/ with config.json, metrics.jsonl, \
        output.log, checkpoints/, report.html, report.md and a copy of the script. Cells \
        (lp.cell) are cached in <runs-dir>/.cache. `lopper run FILE --help` lists the \
        recipe's settings.
        """,
        helpNames: [])

    @Argument(help: "The Lua script to run.")
    var script: String?

    @OptionGroup var options: ScriptOptions

    @Argument(parsing: .postTerminator, help: "Arguments for the script, after --.")
    var scriptArguments: [String] = []

    @Option(help: "Where run folders go.")
    var runsDir = "runs"

    @Option(help: "The run folder's name (default: <recipe>-<YYYYMMDD-HHMMSS>).")
    var name: String?

    @Flag(help: "Leave no run folder (and cache no cells).")
    var noRunFolder = false

    @Flag(help: "Run every cell again, ignoring cached results (and cache the new ones).")
    var fresh = false

    @Option(help: ArgumentHelp("Continue a stopped run in its folder, with its script and settings.", valueName: "run-folder"))
    var resume: String?

    @Flag(name: .customShort("i"), help: "Drop into the Lua prompt after the script, with its globals.")
    var interactive = false

    @Flag(help: "Run a recipe you did not write: no programs, no native code, no debug library; files read only in the run folder, the script's folder and data roots, written only in the run folder; Lua and tensor memory capped.")
    var sandbox = false

    @Option(help: ArgumentHelp("A folder the sandbox may read (repeatable; $LOPPER_DATA and /usr/share/datasets always).", valueName: "dir"))
    var dataRoot: [String] = []

    @Flag(name: [.customShort("h"), .customLong("help")], help: "Show the recipe's settings and this help.")
    var help = false

    func validate() throws {
        if resume != nil {
            if script != nil { throw ValidationError("--resume takes the run folder; give no script") }
            if !options.settings.isEmpty { throw ValidationError("--resume keeps the run's settings; --set is not allowed with it") }
        } else if script == nil && !help {
            throw ValidationError("expected a script to run (or --resume RUN)")
        }
    }

    func run() throws {
        options.applyVerbosity()
        if help {
            print((script.map { RecipeHelp.text(script: $0) + "\n\n" } ?? "") + Run.helpMessage())
            return
        }
        var folder: String?, path = script ?? "", settings = options.settings, cache: String?
        do {
            if let resume {
                let plan = try Resume.prepare(resume)
                (folder, path, settings, cache) = (plan.folder, plan.script, plan.settings, plan.cache)
                FileHandle.standardError.write("lopper: resuming \(plan.folder)\n".data(using: .utf8)!)
            } else if !noRunFolder && FileManager.default.fileExists(atPath: path) {
                // A missing script gets the host's own error, with no folder left behind.
                folder = try RunFolder.create(root: runsDir, script: path, name: name).path
                cache = runsDir + "/.cache"
            }
        } catch let e as RunFolderError {
            FileHandle.standardError.write((e.description + "\n").data(using: .utf8)!)
            throw ExitCode(1)
        }
        var failure: String?
        defer { if let folder { FileHandle.standardError.write("lopper: run folder \(folder)\n".data(using: .utf8)!) } }
        var jail: Sandbox?
        if sandbox {
            let scriptDir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var reads = [scriptDir, "/usr/share/datasets"] + dataRoot
            if let data = ProcessInfo.processInfo.environment["LOPPER_DATA"] { reads.append(data) }
            var writes: [String] = []
            if let folder { writes.append(folder) }
            if let cache { writes.append(cache) }
            jail = Sandbox(readRoots: reads, writeRoots: writes)
            if interactive { throw ValidationError("--sandbox cannot be combined with -i") }
        }
        do {
            try options.withHost(settings: settings, sandbox: jail, { host in
                if let folder {
                    try host.startRun(folder: folder, script: path, hash: RunFolder.hash(path), settings: settings,
                                      cache: cache, fresh: fresh)
                }
                try host.catchingInterrupts { try host.runFile(path, args: scriptArguments) }
                if interactive { try Repl(host: host).loop() }
            }, finally: { host, error in
                failure = error
                guard folder != nil else { return }
                try? host.finishRun(error: error)
            })
        } catch let e as ExitCode {
            if let failure, failure.contains("interrupted (") {
                if let folder {
                    FileHandle.standardError.write("lopper: stopped; finished cells are kept. Resume with: lopper run --resume \(folder)\n".data(using: .utf8)!)
                }
                throw ExitCode(130)
            }
            throw e
        }
    }
}

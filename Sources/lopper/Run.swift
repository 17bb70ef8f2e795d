import ArgumentParser
import Foundation
import LopperLua

/// `lopper run FILE [--set key=value]... [-- script args]`
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Lua script (a recipe).",
        discussion: """
        Arguments after -- reach the script as `...` and in the global `arg`. Each run leaves a \
        folder <runs-dir>/<recipe>-<YYYYMMDD-HHMMSS>/ with config.json, metrics.jsonl, \
        output.log, checkpoints/, report.md and a copy of the script. \
        `lopper run FILE --help` lists the recipe's settings.
        """,
        helpNames: [])

    @Argument(help: "The Lua script to run.")
    var script: String

    @OptionGroup var options: ScriptOptions

    @Argument(parsing: .postTerminator, help: "Arguments for the script, after --.")
    var scriptArguments: [String] = []

    @Option(help: "Where run folders go.")
    var runsDir = "runs"

    @Option(help: "The run folder's name (default: <recipe>-<YYYYMMDD-HHMMSS>).")
    var name: String?

    @Flag(help: "Leave no run folder.")
    var noRunFolder = false

    @Flag(name: [.customShort("h"), .customLong("help")], help: "Show the recipe's settings and this help.")
    var help = false

    func run() throws {
        if help {
            print(RecipeHelp.text(script: script) + "\n\n" + Run.helpMessage())
            return
        }
        // A missing script gets the host's own error, with no folder left behind.
        var folder: RunFolder?
        if !noRunFolder && FileManager.default.fileExists(atPath: script) {
            do { folder = try RunFolder.create(root: runsDir, script: script, name: name) }
            catch let e as RunFolderError {
                FileHandle.standardError.write((e.description + "\n").data(using: .utf8)!)
                throw ExitCode(1)
            }
        }
        try options.withHost({ host in
            if let folder {
                try host.startRun(folder: folder.path, script: script, hash: RunFolder.hash(script), settings: options.settings)
            }
            try host.runFile(script, args: scriptArguments)
        }, finally: { host, failure in
            guard folder != nil else { return }
            try? host.finishRun(error: failure)
        })
        if let folder { FileHandle.standardError.write("lopper: run folder \(folder.path)\n".data(using: .utf8)!) }
    }
}

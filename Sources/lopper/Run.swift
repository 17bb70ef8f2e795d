import ArgumentParser
import LopperLua

/// `lopper run FILE [--set key=value]... [-- script args]`
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Lua script (a recipe).",
        discussion: "Arguments after -- reach the script as `...` and in the global `arg`.")

    @Argument(help: "The Lua script to run.")
    var script: String

    @OptionGroup var options: ScriptOptions

    @Argument(parsing: .postTerminator, help: "Arguments for the script, after --.")
    var scriptArguments: [String] = []

    func run() throws {
        try options.withHost { try $0.runFile(script, args: scriptArguments) }
    }
}

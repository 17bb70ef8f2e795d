import ArgumentParser
import LopperLua

@main
struct Lopper: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lopper",
        abstract: "Neural-network pruning recipes in Lua, on a native Swift core.",
        discussion: "Run a recipe with `lopper run FILE`, try code with `lopper eval 'CODE'` or `lopper repl`, see a run with `lopper report RUN`.",
        version: LopperModule.version,
        subcommands: [Run.self, Eval.self, ReplCommand.self, Report.self])
}

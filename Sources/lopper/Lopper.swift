import ArgumentParser
import Foundation
import LopperCore
import LopperLua

@main
struct Lopper: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lopper",
        abstract: "Neural-network pruning recipes in Lua, on a native Swift core.",
        discussion: "Run a recipe with `lopper run FILE`, a grid of its settings with `lopper sweep FILE --grid k=a,b`, try code with `lopper eval 'CODE'` or `lopper repl`, see a run with `lopper report RUN`. `lopper help lp.train` (or any name or word) documents a part of lp.",
        version: LopperModule.version,
        subcommands: [Run.self, Sweep.self, Eval.self, ReplCommand.self, Report.self, Docs.self])

    /// `lopper help lp.train` documents a part of lp; `lopper help run` is the usage of `run`.
    static func main() {
        BLASKernels.useBest()
        let args = Array(CommandLine.arguments.dropFirst())
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        if HelpTopic.wanted(args, subcommands: names) { Foundation.exit(HelpTopic.run(Array(args.dropFirst()))) }
        main(args)
    }
}

import ArgumentParser
import LopperLua

/// `lopper eval 'CODE'`
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a snippet of Lua and print its results.",
        discussion: "An expression prints its value: lopper eval 'lp.eye(2)'.")

    @Argument(help: "Lua code: an expression or statements.")
    var code: String

    @OptionGroup var options: ScriptOptions

    func run() throws {
        try options.withHost { host in
            let results = try host.eval(code)
            if !results.isEmpty { print(results.joined(separator: "\t")) }
        }
    }
}

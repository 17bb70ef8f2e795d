import ArgumentParser
import Foundation
import LopperLua

/// `lopper docs`: writes docs/reference.md from the declarations next to the bindings, or
/// with `--check` says whether the file on disk is up to date.
struct Docs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the reference (docs/reference.md) from the bindings' documentation.",
        discussion: "Every function, method and option of lp, as help() shows them. `--check` changes nothing and fails when the file differs.")

    @Option(name: [.short, .customLong("output")], help: "The file to write.")
    var output = "docs/reference.md"

    @Flag(help: "Fail (status 1) when the file differs from what would be written.")
    var check = false

    func run() throws {
        let text = DocText.reference(try DocIndex.areas())
        let current = try? String(contentsOfFile: output, encoding: .utf8)
        if check {
            guard current == text else {
                FileHandle.standardError.write("lopper docs: \(output) is out of date; run Scripts/docs\n".data(using: .utf8)!)
                throw ExitCode(1)
            }
            print("\(output) is up to date")
            return
        }
        if current == text { print("\(output) is up to date"); return }
        try text.write(toFile: output, atomically: true, encoding: .utf8)
        print("wrote \(output)")
    }
}

/// `lopper help NAME…`: the documentation of a part of lp from the shell, as `help(…)`
/// prints it at the prompt (`lopper help lp.train`, `lopper help rewind`).
enum HelpTopic {
    /// Whether the arguments ask for a topic rather than a subcommand's usage.
    static func wanted(_ args: [String], subcommands: [String]) -> Bool {
        args.count >= 2 && args[0] == "help" && !subcommands.contains(args[1]) && !args[1].hasPrefix("-")
    }

    static func run(_ words: [String]) -> Int32 {
        let topic = words.joined(separator: " ")
        do {
            let host = try LuaHost(overrides: [])
            let literal = "\"" + topic.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            let code = "lp._help_topic(\(literal))"
            _ = try host.eval(code, chunkName: "=help")
            fflush(stdout)
            return 0
        } catch let e as LuaScriptError {
            FileHandle.standardError.write((e.message + "\n").data(using: .utf8)!)
            return 1
        } catch {
            FileHandle.standardError.write("lopper help: \(error)\n".data(using: .utf8)!)
            return 1
        }
    }
}

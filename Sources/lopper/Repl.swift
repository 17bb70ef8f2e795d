import ArgumentParser
import CReadline
import Foundation
import LopperLua

/// The interactive prompt: line editing and history (readline), results printed, lines
/// joined until a chunk is complete, errors shown without leaving.
struct Repl {
    let host: LuaHost

    func loop() throws {
        let history = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.lopper_history"
        read_history(history)
        defer { write_history(history) }
        FileHandle.standardError.write("Lopper \(LopperModule.version) (Lua 5.4): lp is loaded. Ctrl-D leaves.\n".data(using: .utf8)!)
        var chunk = ""
        while true {
            guard let raw = readline(chunk.isEmpty ? "lp> " : "..> ") else { print(""); return }
            let line = String(cString: raw)
            free(raw)
            if chunk.isEmpty && line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            chunk += chunk.isEmpty ? line : "\n" + line
            if !chunk.hasPrefix("?"), host.needsMoreInput(chunk) { continue }
            add_history(chunk)
            // `= expr` as in Lua 5.1's prompt; `?word` is help("word"), as `?torch.cat` in th.
            var code = chunk.hasPrefix("=") ? String(chunk.dropFirst()) : chunk
            if chunk.hasPrefix("?") {
                let word = chunk.dropFirst().trimmingCharacters(in: .whitespaces)
                code = "help(\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\")"
            }
            chunk = ""
            do {
                let results = try host.catchingInterrupts { try host.eval(code, chunkName: "=stdin") }
                if !results.isEmpty { print(results.joined(separator: "\t")) }
            } catch let e as LuaScriptError {
                // The prompt's own frames are noise in the traceback.
                print(e.message.split(separator: "\n").filter { !$0.contains("lopper/prelude.lua") && !$0.contains("in local 'chunk'") }
                    .joined(separator: "\n"))
            }
            fflush(stdout)
        }
    }
}

/// `lopper repl`
struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "An interactive Lua prompt with Lopper loaded.",
        discussion: "Results print as they come; an unfinished block reads more lines; history is kept in ~/.lopper_history.")

    @OptionGroup var options: ScriptOptions

    func run() throws {
        options.applyVerbosity()
        try options.withHost { host in try Repl(host: host).loop() }
    }
}

import ArgumentParser
import Foundation
import LopperLua
import LopperNN

/// `--set key=value` options shared by the commands that run Lua.
struct ScriptOptions: ParsableArguments {
    @Option(name: .customLong("set"),
            help: ArgumentHelp("Override a setting the script reads with lp.config (repeatable): numbers, true/false, words, \"strings\", lists [1,2].",
                               valueName: "key=value"))
    var settings: [String] = []

    @Flag(help: "No progress lines.")
    var quiet = false

    @Flag(help: "Progress lines more often, and every lp.log record on standard error.")
    var verbose = false

    func applyVerbosity() {
        ProgressLine.mode = quiet ? .quiet : verbose ? .verbose : .normal
    }

    static func overrides(_ settings: [String]) throws -> [(String, SetValue)] {
        do { return try settings.map(SetValue.parseAssignment) }
        catch let e as LuaError { throw ValidationError(e.message) }
    }

    /// Runs `body` on a new host; script errors go to stderr with exit status 1.
    func withHost(settings: [String]? = nil, _ body: (LuaHost) throws -> Void,
                  finally: (LuaHost, String?) -> Void = { _, _ in }) throws {
        let settings = settings ?? self.settings
        let host = try LuaHost(overrides: try Self.overrides(settings))
        do {
            try body(host)
            finally(host, nil)
        } catch let e as LuaScriptError {
            fflush(stdout)
            FileHandle.standardError.write((e.message + "\n").data(using: .utf8)!)
            finally(host, e.message)
            throw ExitCode(1)
        }
        fflush(stdout)
        if !settings.isEmpty && !host.configWasRead {
            FileHandle.standardError.write("lopper: warning: --set had no effect: the script never called lp.config\n".data(using: .utf8)!)
        }
    }
}

import ArgumentParser
import Foundation
import LopperLua
import LopperNN
import LopperCore

/// `--set key=value` options shared by the commands that run Lua.
struct ScriptOptions: ParsableArguments {
    @Option(name: .customLong("set"),
            help: ArgumentHelp("Override a setting the script reads with lp.config (repeatable): numbers, true/false, words, \"strings\", lists [1,2].",
                               valueName: "key=value"))
    var settings: [String] = []

    @Option(help: ArgumentHelp("Most tensor memory the script may hold (e.g. 8G, 512M; default: 3/4 of RAM).", valueName: "size"))
    var memoryLimit: String?

    @Option(help: ArgumentHelp("Stop the script after this many seconds of wall time.", valueName: "seconds"))
    var timeLimit: Double?

    @Option(help: ArgumentHelp("Worker threads for the kernels (default: the CPUs this process may use; also LOPPER_NUM_THREADS).", valueName: "n"))
    var threads: Int?

    @Flag(help: "No progress lines.")
    var quiet = false

    @Flag(help: "Progress lines more often, and every lp.log record on standard error.")
    var verbose = false

    func applyVerbosity() {
        ProgressLine.mode = quiet ? .quiet : verbose ? .verbose : .normal
    }

    /// The memory, time and thread settings, checked.
    func applyLimits() throws {
        if let memoryLimit {
            guard let bytes = MemoryBudget.parse(memoryLimit) else {
                throw ValidationError("--memory-limit: expected a size such as 8G, 512M or a number of bytes, got '\(memoryLimit)'")
            }
            MemoryBudget.limitBytes = bytes
        }
        if let timeLimit {
            guard timeLimit > 0, timeLimit.isFinite else { throw ValidationError("--time-limit: expected a positive number of seconds, got \(timeLimit)") }
            LuaHost.setTimeLimit(timeLimit)
        }
        if let threads {
            guard threads >= 1, threads <= 1024 else { throw ValidationError("--threads: expected 1 to 1024, got \(threads)") }
            Parallel.use(threads)
        }
    }

    static func overrides(_ settings: [String]) throws -> [(String, SetValue)] {
        do { return try settings.map(SetValue.parseAssignment) }
        catch let e as LuaError { throw ValidationError(e.message) }
    }

    /// Runs `body` on a new host; script errors go to stderr with exit status 1.
    func withHost(settings: [String]? = nil, sandbox: Sandbox? = nil, _ body: (LuaHost) throws -> Void,
                  finally: (LuaHost, String?) -> Void = { _, _ in }) throws {
        let settings = settings ?? self.settings
        try applyLimits()
        let host: LuaHost
        do { host = try LuaHost(overrides: try Self.overrides(settings), sandbox: sandbox) } catch let e as LuaScriptError {
            FileHandle.standardError.write((e.message + "\n").data(using: .utf8)!)
            throw ExitCode(1)
        }
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

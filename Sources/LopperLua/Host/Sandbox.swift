import CLua
import LuaShim
import LopperCore
import LopperNN

/// `lopper run --sandbox`: for recipes one did not write. No programs run, no native code
/// loads, no `debug` library; files are read only below the read roots and written only
/// below the write roots (the run folder and the cell cache); the Lua heap and tensor
/// memory are capped. Each refusal is a Lua error that names the rule.
public struct Sandbox {
    public var readRoots: [String]
    public var writeRoots: [String]
    /// Most bytes of Lua heap (strings, tables): a custom allocator refuses past it.
    public var luaMemory: Int
    /// Most tensor bytes; `lp.set_memory_limit` cannot raise the budget past it.
    public var memoryCap: Int

    public init(readRoots: [String], writeRoots: [String], luaMemory: Int = 1 << 30, memoryCap: Int = MemoryBudget.defaultLimit) {
        self.readRoots = readRoots
        self.writeRoots = writeRoots
        self.luaMemory = luaMemory
        self.memoryCap = memoryCap
    }

    /// The sandbox in force (one host at a time runs sandboxed in a process).
    nonisolated(unsafe) static var current: Sandbox?

    /// Puts the file policy and the memory cap in place, then replaces the dangerous
    /// globals (after the preludes, which keep their own references to io and os).
    func apply(_ host: LuaHost) throws {
        FilePolicy.current = FilePolicy(readable: readRoots, writable: writeRoots)
        MemoryBudget.limitBytes = Swift.min(MemoryBudget.limitBytes, memoryCap)
        Sandbox.current = self
        try host.runChunk(Sandbox.prelude, chunkName: "=lopper.sandbox", passing: Sandbox.check, withLp: true)
    }

    /// Lifts the policy when the sandboxed host goes.
    static func lift() {
        guard let s = current else { return }
        FilePolicy.current = nil
        current = nil
        if MemoryBudget.limitBytes == s.memoryCap { MemoryBudget.limitBytes = MemoryBudget.defaultLimit }
    }

    /// check(path, mode, function name): raises unless the policy allows it.
    static let check = LuaFunction("sandbox") { c in
        try c.arity(3, 3)
        let path = try c.string(1, "path"), mode = try c.string(2, "mode"), op = try c.string(3, "function")
        let write = mode.contains("w") || mode.contains("a") || mode.contains("+")
        do { try FilePolicy.check(path, write: write, op: op) } catch let e as TensorError { throw LuaError(e.message) }
        return 0
    }

    static let prelude = #"""
local check, lp = ...
local function refuse(name, rule)
  return function() error(string.format("%s: sandbox: %s", name, rule), 2) end
end
local no_programs = "running other programs is not allowed"
os.execute = refuse("os.execute", no_programs)
io.popen = refuse("io.popen", no_programs)
os.exit = refuse("os.exit", "ending the host is not allowed (return from the script, or call error)")
os.tmpname = refuse("os.tmpname", "temporary files outside the run folder are not allowed")
os.setlocale = refuse("os.setlocale", "changing the process locale is not allowed")
package.loadlib = refuse("package.loadlib", "loading native code is not allowed")
package.cpath = ""
package.searchers[3], package.searchers[4] = nil, nil
package.preload.debug, package.loaded.debug, debug = nil, nil, nil

-- The run's own start and report rendering write with Lopper's trusted file functions:
-- only into folders the policy allows (the host's own call passes; a script's into /etc does not).
local raw_start, raw_render = lp._start_run, lp._render_report
function lp._start_run(info)
  check(type(info) == "table" and tostring(info.dir) .. "/config.json" or "?", "w", "_start_run")
  return raw_start(info)
end
function lp._render_report(dir)
  check(tostring(dir) .. "/report.html", "w", "_render_report")
  return raw_render(dir)
end

local raw_open, raw_lines, raw_input, raw_output = io.open, io.lines, io.input, io.output
local raw_remove, raw_rename, raw_loadfile = os.remove, os.rename, loadfile
function io.open(path, mode)
  if type(path) == "string" then check(path, type(mode) == "string" and mode or "r", "io.open") end
  return raw_open(path, mode)
end
function io.lines(path, ...)
  if type(path) == "string" then check(path, "r", "io.lines") end
  return raw_lines(path, ...)
end
function io.input(file)
  if type(file) == "string" then check(file, "r", "io.input") end
  return raw_input(file)
end
function io.output(file)
  if type(file) == "string" then check(file, "w", "io.output") end
  return raw_output(file)
end
function os.remove(path)
  check(tostring(path), "w", "os.remove")
  return raw_remove(path)
end
function os.rename(from, to)
  check(tostring(from), "w", "os.rename")
  check(tostring(to), "w", "os.rename")
  return raw_rename(from, to)
end
function loadfile(path, ...)
  if path == nil then error("loadfile: sandbox: reading a chunk from standard input is not allowed", 2) end
  check(tostring(path), "r", "loadfile")
  return raw_loadfile(path, ...)
end
"""#
}

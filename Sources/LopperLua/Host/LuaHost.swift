import Foundation
import CLua
import LuaShim
import LopperCore

/// An error from a script: its message (with `file:line:`) and a Lua traceback.
public struct LuaScriptError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A Lua 5.4 state with the `lopper` module loaded: `require "lopper"` and the global `lp`.
/// Scripts load as text only; every call into Lua is protected and errors come back as
/// `LuaScriptError` with a traceback.
public final class LuaHost {
    public let L: OpaquePointer
    /// Live tensor bytes after the collector last ran.
    private var nativeBaseline = Storage.liveBytes
    /// Tensor memory that triggers a collector step: Lua does not see native memory, so
    /// without this a loop creating tensors grows until Lua's own heap happens to grow.
    static let gcStepBytes = 16 << 20

    /// Whether this host runs sandboxed (and lifts the sandbox when it goes).
    let sandboxed: Bool

    /// Creates a state; `overrides` are the `--set` values that `lp.config` merges in. With
    /// `sandbox`, the state's heap is capped and the sandbox's rules hold until it closes.
    public init(overrides: [(String, SetValue)] = [], sandbox: Sandbox? = nil) throws {
        let made = sandbox.map { lp_new_limited_state($0.luaMemory) } ?? luaL_newstate()
        guard let L = made else { throw LuaScriptError(message: "lopper: cannot create a Lua state") }
        self.L = L
        sandboxed = sandbox != nil
        lua_atpanic(L, lp_panic)
        LuaHost.open.insert(L)
        lp_host_slot(L).pointee = Unmanaged.passUnretained(self).toOpaque()
        luaL_openlibs(L)
        LopperModule.install(L)
        try runPrelude(overrides: overrides)
        try sandbox?.apply(self)
    }

    deinit {
        LuaHost.open.remove(L)
        lp_close_state(L)
        if sandboxed { Sandbox.lift() }
    }

    /// Runs a chunk of Lopper's own with `function` as its argument.
    func runChunk(_ code: String, chunkName: String, passing function: LuaFunction, withLp: Bool = false) throws {
        let base = lua_gettop(L)
        try load(code, chunkName: chunkName)
        function.push(L)
        if withLp { lua_getglobal(L, "lp") }
        let n = try protectedCall(nargs: withLp ? 2 : 1, base: base)
        lp_pop(L, n)
    }

    /// Wall-clock seconds a script may run (`--time-limit`; 0 for no limit): past them the
    /// script raises at its next Lua step, and native training at its next step.
    public static func setTimeLimit(_ seconds: Double) { lp_set_time_limit(seconds) }

    /// States not yet closed: objects holding Lua references release them only while
    /// their state is open (they may be finalised while the state closes).
    nonisolated(unsafe) static var open = Set<OpaquePointer>()

    /// The host that owns a state (nil for a state not made by LuaHost).
    static func of(_ L: OpaquePointer) -> LuaHost? {
        guard let p = lp_host_slot(L).pointee else { return nil }
        return Unmanaged<LuaHost>.fromOpaque(p).takeUnretainedValue()
    }

    /// Tells the collector about tensor memory, stepping it when enough has piled up.
    /// Live tensor bytes are counted, not only the tensors handed to Lua: a result that
    /// requires grad keeps its whole graph of intermediates alive until Lua collects it.
    func noteNative(_ L: OpaquePointer) {
        let live = Storage.liveBytes
        if live < nativeBaseline { nativeBaseline = live; return }
        guard live - nativeBaseline >= LuaHost.gcStepBytes else { return }
        lp_gc_step(L, Int32(clamping: (live - nativeBaseline) >> 10))
        nativeBaseline = Storage.liveBytes
    }

    /// Registers a global Lua function backed by Swift.
    public func setGlobal(_ function: LuaFunction) {
        function.push(L)
        lua_setglobal(L, function.name)
    }

    // MARK: Running code

    /// Loads a chunk (text only) and leaves it on the stack, or throws its syntax error.
    private func load(_ code: String, chunkName: String) throws {
        let status = code.utf8CString.withUnsafeBufferPointer { buf in
            lp_load_text(L, buf.baseAddress, buf.count - 1, chunkName)
        }
        if status != LUA_OK {
            let message = lp_tostring(L, -1).map { String(cString: $0) } ?? "syntax error"
            lp_pop(L, 1)
            throw LuaScriptError(message: message)
        }
    }

    /// Calls the function below `nargs` arguments on the stack under a traceback handler;
    /// returns the number of results left on the stack.
    @discardableResult
    private func protectedCall(nargs: Int32, base: Int32) throws -> Int32 {
        let handler = base + 1
        lp_pushcfunction(L, lp_traceback_handler)
        lp_insert(L, handler)
        let status = lp_pcall(L, nargs, LUA_MULTRET, handler)
        if status != LUA_OK {
            let message = lp_tostring(L, -1).map { String(cString: $0) } ?? "error object is not a string"
            lua_settop(L, base)
            throw LuaScriptError(message: message)
        }
        lp_remove(L, handler)
        return lua_gettop(L) - base
    }

    /// Runs a script file with `args` as `...` and the global `arg` (arg[0] = path).
    public func runFile(_ path: String, args: [String] = []) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            let why = FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "no such file"
            throw LuaScriptError(message: "lopper: cannot open script '\(path)': \(why)")
        }
        guard let code = String(data: data, encoding: .utf8) else {
            throw LuaScriptError(message: "lopper: script '\(path)' is not UTF-8 text")
        }
        lua_createtable(L, Int32(args.count), 1)
        lua_pushstring(L, path)
        lua_rawseti(L, -2, 0)
        for (i, a) in args.enumerated() {
            lua_pushstring(L, a)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        lua_setglobal(L, "arg")
        let base = lua_gettop(L)
        try load(code, chunkName: "@" + path)
        for a in args { lua_pushstring(L, a) }
        let n = try protectedCall(nargs: Int32(args.count), base: base)
        lp_pop(L, n)
    }

    /// Runs a snippet and returns its results, each as `tostring` gives it. An expression
    /// is tried first (`1 + 1` gives "2"), then the snippet as statements.
    @discardableResult
    public func eval(_ code: String, chunkName: String = "=(eval)") throws -> [String] {
        let base = lua_gettop(L)
        lua_rawgetp(L, lp_registryindex(), LuaHost.showKey)
        do { try load("return " + code, chunkName: chunkName) } catch { try load(code, chunkName: chunkName) }
        let n = try protectedCall(nargs: 1, base: base)
        var out: [String] = []
        if n == 1, lua_type(L, -1) == LUA_TTABLE {
            for i in stride(from: 1, through: Int(lua_rawlen(L, -1)), by: 1) {
                lua_rawgeti(L, -1, lua_Integer(i))
                out.append(lp_tostring(L, -1).map { String(cString: $0) } ?? "")
                lp_pop(L, 1)
            }
        }
        lua_settop(L, base)
        return out
    }

    /// Whether `code` is the start of a longer chunk (an unfinished block or string), so a
    /// prompt should read another line before running it.
    public func needsMoreInput(_ code: String) -> Bool {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        if (try? load("return " + code, chunkName: "=stdin")) != nil { return false }
        do { try load(code, chunkName: "=stdin") } catch let e as LuaScriptError { return e.message.hasSuffix("<eof>") }
        catch { return false }
        return false
    }

    /// Runs a snippet as statements (no results), for tests and embedding.
    public func run(_ code: String, chunkName: String = "=(run)") throws {
        let base = lua_gettop(L)
        try load(code, chunkName: chunkName)
        let n = try protectedCall(nargs: 0, base: base)
        lp_pop(L, n)
    }

    /// Makes this a recorded run: `lp.run` names the folder, and the Lua side of `lp` writes
    /// config.json, metrics.jsonl, output.log and report.md there.
    /// Cells cache their results under `cache` (read unless `fresh`).
    public func startRun(folder: String, script: String, hash: String, settings: [String],
                         cache: String? = nil, fresh: Bool = false) throws {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_getglobal(L, "lp")
        lua_getfield(L, -1, "_start_run")
        lua_createtable(L, 0, 6)
        for (k, v) in [("dir", folder), ("script", script), ("script_hash", hash), ("lopper_version", LopperModule.version)] {
            lua_pushstring(L, v)
            lua_setfield(L, -2, k)
        }
        lua_createtable(L, Int32(settings.count), 0)
        for (i, v) in settings.enumerated() {
            lua_pushstring(L, v)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        lua_setfield(L, -2, "set")
        if let cache { lua_pushstring(L, cache); lua_setfield(L, -2, "cache") }
        // The generator's seed at the start (recipes usually reseed with lp.manual_seed).
        lua_pushinteger(L, lua_Integer(bitPattern: RandomGenerator.shared.seed))
        lua_setfield(L, -2, "seed")
        lua_pushboolean(L, fresh ? 1 : 0)
        lua_setfield(L, -2, "fresh")
        _ = try protectedCall(nargs: 1, base: base + 1)
    }

    /// Ends a recorded run: the final report, with the error if the script failed.
    public func finishRun(error: String?) throws {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_getglobal(L, "lp")
        lua_getfield(L, -1, "_finish_run")
        if let error { lua_pushstring(L, error) } else { lua_pushnil(L) }
        _ = try protectedCall(nargs: 1, base: base + 1)
    }

    /// While `body` runs, Ctrl-C (or SIGTERM) stops the script at its next step with "interrupted (Ctrl-C)".
    public func catchingInterrupts<T>(_ body: () throws -> T) rethrows -> T {
        StopRequest.reason = {
            switch lp_stop_reason() {
            case 1: return "interrupted (Ctrl-C)"
            case 2: return String(cString: lp_time_limit_message())
            case 3: return "interrupted (SIGTERM)"
            default: return nil
            }
        }
        lp_catch_interrupts(L)
        defer { lp_release_interrupts() }
        return try body()
    }

    /// Whether the script read its `--set` values through `lp.config`.
    public var configWasRead: Bool {
        lua_rawgetp(L, lp_registryindex(), LuaHost.configStateKey)
        lua_pushstring(L, "read")
        lua_rawget(L, -2)
        defer { lp_pop(L, 2) }
        return lua_toboolean(L, -1) != 0
    }

    // Registry keys: unique addresses.
    static let showKey = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))
    static let configStateKey = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

    /// Runs the Lua part of the module (lp.config and the result printer of `eval`).
    private func runPrelude(overrides: [(String, SetValue)]) throws {
        let base = lua_gettop(L)
        try load(try LuaSources.text("prelude"), chunkName: LuaSources.chunkName("prelude"))
        lua_getglobal(L, "lp")
        lua_createtable(L, 0, Int32(overrides.count))
        for (key, value) in overrides {
            value.push(L)
            lua_setfield(L, -2, key)
        }
        let n = try protectedCall(nargs: 2, base: base)
        guard n == 3 else { throw LuaScriptError(message: "lopper: prelude returned \(n) values") }
        // The cells prelude shares the first one's internals.
        try load(try LuaSources.text("cells"), chunkName: LuaSources.chunkName("cells"))
        lp_insert(L, -2)
        lua_getglobal(L, "lp")
        lp_insert(L, -2)
        try protectedCall(nargs: 2, base: base + 2)
        lua_rawsetp(L, lp_registryindex(), LuaHost.configStateKey)
        lua_rawsetp(L, lp_registryindex(), LuaHost.showKey)
        for file in ["sparse", "eval"] {
            try load(try LuaSources.text(file), chunkName: LuaSources.chunkName(file))
            lua_getglobal(L, "lp")
            try protectedCall(nargs: 1, base: base)
        }
        try load(try LuaSources.text("help"), chunkName: LuaSources.chunkName("help"))
        lua_getglobal(L, "lp")
        try protectedCall(nargs: 1, base: base)
    }
}

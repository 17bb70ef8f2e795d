import CLua
import LuaShim

/// A Lua value kept alive from Swift (a Lua-written module, a callback, a schedule) by a
/// registry reference, released when the Swift owner goes — unless the state has closed.
///
/// The one rule for threads: a reference never keeps the thread it was made on. That may
/// be a coroutine, collected once it ends; calls go to the thread running the current
/// binding (so they nest on its stack) or, outside any binding, to the main thread.
final class LuaReference {
    let main: OpaquePointer
    let ref: Int32

    /// References the value at stack index `i` of `L` (any thread of the state).
    init(_ L: OpaquePointer, _ i: Int32) {
        main = LuaReference.mainThread(of: L)
        lua_pushvalue(L, i)
        ref = luaL_ref(L, lp_registryindex())
    }

    deinit {
        if LuaHost.open.contains(main) { luaL_unref(main, lp_registryindex(), ref) }
    }

    /// The thread to use now.
    var L: OpaquePointer {
        if let current = LuaThread.current, current != main,
           let host = lp_host_slot(main).pointee, lp_host_slot(current).pointee == host { return current }
        return main
    }

    static func mainThread(of L: OpaquePointer) -> OpaquePointer {
        lua_rawgeti(L, lp_registryindex(), lua_Integer(LUA_RIDX_MAINTHREAD))
        defer { lp_pop(L, 1) }
        return lua_tothread(L, -1) ?? L
    }

    /// Pushes the value.
    func push() { lua_rawgeti(L, lp_registryindex(), lua_Integer(ref)) }

    /// Calls the referenced function with `push` pushing its arguments; returns with its one
    /// result on the stack (the caller pops it), or throws the Lua error as it stands.
    func call(_ nargs: Int32, results: Int32 = 1, _ pushArgs: () -> Void) throws {
        push()
        pushArgs()
        if lp_pcall(L, nargs, results, 0) != LUA_OK { throw LuaReference.error(L) }
    }

    /// Pops an error message left by a failed protected call and returns it as an error
    /// raised unchanged.
    static func error(_ L: OpaquePointer) -> LuaError {
        let message = lp_tostring(L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
        lp_pop(L, 1)
        return LuaError(message, positioned: true)
    }
}

/// The Lua thread running the innermost binding call (set by the dispatcher).
enum LuaThread {
    nonisolated(unsafe) static var current: OpaquePointer?
}

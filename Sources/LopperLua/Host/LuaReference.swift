import CLua
import LuaShim

/// A Lua value kept alive from Swift (a Lua-written module, a callback, a schedule) by a
/// registry reference, released when the Swift owner goes — unless the state has closed.
final class LuaReference {
    let L: OpaquePointer
    let ref: Int32

    /// References the value at stack index `i`.
    init(_ L: OpaquePointer, _ i: Int32) {
        self.L = L
        lua_pushvalue(L, i)
        ref = luaL_ref(L, lp_registryindex())
    }

    deinit {
        if LuaHost.open.contains(L) { luaL_unref(L, lp_registryindex(), ref) }
    }

    /// Pushes the value.
    func push() { lua_rawgeti(L, lp_registryindex(), lua_Integer(ref)) }

    /// Calls the referenced function with `push` pushing its arguments; returns with its one
    /// result on the stack (the caller pops it), or throws the Lua error as it stands.
    func call(_ nargs: Int32, _ pushArgs: () -> Void) throws {
        push()
        pushArgs()
        if lp_pcall(L, nargs, 1, 0) != LUA_OK { throw LuaReference.error(L) }
    }

    /// Pops an error message left by a failed protected call and returns it as an error
    /// raised unchanged.
    static func error(_ L: OpaquePointer) -> LuaError {
        let message = lp_tostring(L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
        lp_pop(L, 1)
        return LuaError(message, positioned: true)
    }
}

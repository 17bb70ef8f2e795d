import CLua
import LuaShim
import LopperCore
import LopperNN

/// A module written in Lua: a table with `forward(self, x)`. Its parameters are the fields
/// holding tensors that require grad, its children the fields holding modules (native or
/// Lua), named by their keys — integer keys first in order, then names sorted — so a Lua
/// module sits in a native `Sequential`, trains, saves and prunes like a built-in one.
final class LuaModule: Module {
    let table: LuaReference
    var L: OpaquePointer { table.L }

    init(_ L: OpaquePointer, _ i: Int32) {
        table = LuaReference(L, i)
        super.init(kind: "LuaModule")
    }

    /// Whether the value at `i` is a table with a `forward` field (metatables included).
    static func isModuleTable(_ L: OpaquePointer, _ index: Int32) -> Bool {
        guard lua_type(L, index) == LUA_TTABLE else { return false }
        let i = lua_absindex(L, index)
        lua_pushstring(L, "forward")
        defer { lp_pop(L, 1) }
        return lp_pgettable(L, i) == LUA_TFUNCTION
    }

    override var training: Bool {
        get {
            table.push()
            defer { lp_pop(L, 2) }
            lua_pushstring(L, "training")
            return lua_rawget(L, -2) != LUA_TBOOLEAN || lua_toboolean(L, -1) != 0
        }
        set {
            table.push()
            lua_pushstring(L, "training")
            lua_pushboolean(L, newValue ? 1 : 0)
            lua_rawset(L, -3)
            lp_pop(L, 1)
        }
    }

    /// Kept with the table (this wrapper is made afresh each time the table is used).
    override var hooks: ModuleHooks? {
        get {
            table.push()
            defer { lp_pop(L, 1) }
            return HookBindings.hooks(ofTable: L, -1)
        }
        set {
            table.push()
            HookBindings.setHooks(ofTable: L, -1, newValue)
            lp_pop(L, 1)
        }
    }

    override var summary: String {
        table.push()
        defer { lp_pop(L, 2) }
        lua_pushstring(L, "name")
        return lua_rawget(L, -2) == LUA_TSTRING ? String(cString: lp_tostring(L, -1)) : "LuaModule"
    }

    /// The table's fields as (name, stack-independent value) in a stable order. The pairs
    /// are copied out first with raw operations only: `pick` may run Lua code (a child's
    /// `__index`) that edits this table, and `lua_next` over an edited table raises.
    private func fields<V>(_ pick: (Int32) -> V?) -> [(String, V)] {
        guard lua_checkstack(L, 6) != 0 else { return [] }
        table.push()
        defer { lp_pop(L, 2) }
        let n = pushPairs(of: lua_gettop(L)) { lp_isinteger(L, $0) != 0 || lua_type(L, $0) == LUA_TSTRING }
        var numbered: [(Int, V)] = [], named: [(String, V)] = []
        for k in stride(from: 1, to: n, by: 2) {
            lua_rawgeti(L, -1, k)
            lua_rawgeti(L, -2, k + 1)
            defer { lp_pop(L, 2) }
            guard let v = pick(-1) else { continue }
            if lp_isinteger(L, -2) != 0 { numbered.append((Int(lp_tointeger(L, -2)), v)) }
            else { named.append((String(cString: lp_tostring(L, -2)), v)) }
        }
        return numbered.sorted { $0.0 < $1.0 }.map { (String($0.0), $0.1) } + named.sorted { $0.0 < $1.0 }
    }

    /// Pushes a list of the pairs of the table at `t` whose key `keep` accepts, as key,
    /// value, key, value …, read with raw operations only; returns its length.
    private func pushPairs(of t: Int32, keep: (Int32) -> Bool) -> lua_Integer {
        lua_createtable(L, 16, 0)
        var n: lua_Integer = 0
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            if keep(-2) {
                lua_pushvalue(L, -2)
                lua_rawseti(L, -4, n + 1)
                lua_rawseti(L, -3, n + 2)
                n += 2
            } else {
                lp_pop(L, 1)
            }
        }
        return n
    }

    override var localParameters: [(String, Tensor)] {
        fields { i in
            guard let p = lp_to_tensor(L, i) else { return nil }
            let t = Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
            return t.requiresGrad && t.gradFn == nil && !t.isBuffer ? t : nil
        }
    }

    /// Fields holding tensors marked with `as_buffer`.
    override var localBuffers: [(String, Tensor)] {
        fields { i in
            guard let p = lp_to_tensor(L, i) else { return nil }
            let t = Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
            return t.isBuffer ? t : nil
        }
    }

    /// A child is a field: replacing one sets the field (an integer key for a numbered one).
    override func replaceChild(_ name: String, with m: Module) throws {
        guard children.contains(where: { $0.0 == name }) else {
            throw LuaError("replace: \(summary) has no child '\(name)' (its children: \(childList))")
        }
        table.push()
        if let k = Int(name) { lua_pushinteger(L, lua_Integer(k)) } else { lua_pushstring(L, name) }
        HookBindings.pushModule(L, m)
        lua_rawset(L, -3)
        lp_pop(L, 1)
    }

    /// A new table with the same metatable: tensor fields copied (values, requires-grad,
    /// mask, buffer mark), module fields cloned, other values shared.
    override func clone() throws -> Module {
        guard lua_checkstack(L, 12) != 0 else { throw LuaError("clone: out of Lua stack space") }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        table.push()
        let source = lua_gettop(L)
        // The pairs first, with raw operations: cloning a child may run Lua code.
        let n = pushPairs(of: source) { _ in true }
        let pairs = lua_gettop(L)
        lua_createtable(L, 0, Int32(n / 2))
        let copy = lua_gettop(L)
        for k in stride(from: 1, to: n, by: 2) {
            lua_rawgeti(L, pairs, k)
            lua_rawgeti(L, pairs, k + 1)
            if let p = lp_to_tensor(L, -1) {
                let t = Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
                let c = try Autograd.noGrad { try t.clone() }
                c.requiresGrad = t.requiresGrad && t.gradFn == nil
                c.isBuffer = t.isBuffer
                c.mask = try t.mask.map { try $0.clone() }
                lp_pop(L, 1)
                pushTensor(L, c)
            } else if let m = ModuleBindings.optionalModule(L, -1) {
                let c = try m.clone()
                lp_pop(L, 1)
                HookBindings.pushModule(L, c)
            }
            lua_rawset(L, copy)
        }
        if lua_getmetatable(L, source) != 0 { lua_setmetatable(L, copy) }
        return LuaModule(L, copy)
    }

    override var children: [(String, Module)] {
        fields { i in ModuleBindings.optionalModule(L, i) }
    }

    /// Lua modules running inside one another: a module that calls itself (through a
    /// container) would otherwise end in Lua's bare "C stack overflow".
    nonisolated(unsafe) static var depth = 0
    static let maxDepth = 40

    override func forward(_ x: Tensor) throws -> Tensor {
        guard LuaModule.depth < LuaModule.maxDepth else {
            throw LuaError("forward: Lua modules nest more than \(LuaModule.maxDepth) calls deep in \(summary) (does a module call itself?)")
        }
        LuaModule.depth += 1
        defer { LuaModule.depth -= 1 }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        table.push()
        lua_pushstring(L, "forward")
        pushTensor(L, x)
        if lp_pcall_method(L, 1) != LUA_OK { throw LuaReference.error(L) }
        guard let p = lp_to_tensor(L, -1) else {
            throw LuaError("\(summary): forward returned \(String(cString: lp_typename_at(L, -1))), expected a tensor")
        }
        return Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
    }
}

/// Pushes a tensor outside a binding call (callbacks, Lua modules).
func pushTensor(_ L: OpaquePointer, _ t: Tensor) {
    lp_new_tensor(L)!.pointee = Unmanaged.passRetained(t).toOpaque()
    LuaHost.of(L)?.noteNative(L)
}

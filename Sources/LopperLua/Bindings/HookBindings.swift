import CLua
import LuaShim
import LopperCore
import LopperNN

/// A hook's way back out: `handle:remove()`.
final class HookHandle {
    private var removal: (() -> Bool)?
    init(_ removal: @escaping () -> Bool) { self.removal = removal }

    /// Removes the hook; false if it was already removed.
    func remove() -> Bool {
        defer { removal = nil }
        return removal?() ?? false
    }
}

/// Hooks from Lua: `m:on_forward(fn)`, `m:on_backward(fn)`, `t:register_hook(fn)` and
/// `t:retain_grad()`.
enum HookBindings {
    static let handle: LuaClass<HookHandle> = LuaClass("HookHandle", methods: [
        LuaFunction("remove") { c in
            // remove() → true if the hook was there.
            try c.arity(1, 1)
            return c.push(try handle.check(c, 1).remove())
        },
    ])

    /// Holds a Lua-written module's hooks in a userdata, the value of its table in a
    /// weak-keyed registry table: the hooks live as long as the table does.
    static let box: LuaClass<ModuleHooks> = LuaClass("ModuleHooks", methods: [])
    static let boxesKey = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

    static let moduleMethods: [LuaFunction] = [
        LuaFunction("on_forward") { c in
            // on_forward(fn(module, input, output) → output or nil) → handle
            try c.arity(2, 2)
            let m = try ModuleBindings.check(c, 1)
            let f = try function(c, 2, "fn(module, input, output)")
            let hooks = m.hookSet()
            let id = hooks.onForward { m, x, y in
                try call(f, "on_forward", 3) { L in pushModule(L, m); pushTensor(L, x); pushTensor(L, y) }
            }
            return handle.push(c, HookHandle { [weak hooks] in hooks?.remove(id) ?? false })
        },
        LuaFunction("on_backward") { c in
            // on_backward(fn(module, grad_output, grad_input) → grad_input or nil) → handle
            try c.arity(2, 2)
            let m = try ModuleBindings.check(c, 1)
            let f = try function(c, 2, "fn(module, grad_output, grad_input)")
            let hooks = m.hookSet()
            let id = hooks.onBackward { m, gy, gx in
                try call(f, "on_backward", 3) { L in
                    pushModule(L, m); pushTensor(L, gy)
                    if let gx { pushTensor(L, gx) } else { lua_pushnil(L) }
                }
            }
            return handle.push(c, HookHandle { [weak hooks] in hooks?.remove(id) ?? false })
        },
    ]

    static let tensorMethods: [LuaFunction] = [
        LuaFunction("retain_grad") { c in
            // retain_grad() → self: backward keeps this non-leaf tensor's gradient in .grad.
            try c.arity(1, 1)
            let t = try c.tensor(1)
            guard t.requiresGrad else { throw c.error("the tensor does not require grad, so it gets no gradient to keep") }
            t.retainsGrad = true
            lua_settop(c.L, 1)
            return 1
        },
        LuaFunction("register_hook") { c in
            // register_hook(fn(grad) → grad or nil) → handle
            try c.arity(2, 2)
            let t = try c.tensor(1)
            guard t.requiresGrad else { throw c.error("the tensor does not require grad, so no gradient reaches a hook") }
            let f = try function(c, 2, "fn(grad)")
            let box = HookFunction { g in try call(f, "register_hook", 1) { L in pushTensor(L, g) } }
            t.gradHooks = (t.gradHooks ?? []) + [box.call]
            return handle.push(c, HookHandle { box.remove() })
        },
    ]

    /// A tensor hook that can be switched off (closures in an array have no identity);
    /// switching it off lets go of the Lua function.
    final class HookFunction {
        private var fn: ((Tensor) throws -> Tensor?)?
        init(_ fn: @escaping (Tensor) throws -> Tensor?) { self.fn = fn }
        var call: (Tensor) throws -> Tensor? { { [self] g in try fn?(g) } }
        /// True the first time.
        func remove() -> Bool {
            defer { fn = nil }
            return fn != nil
        }
    }

    /// Calls the Lua hook `f` with the `nargs` arguments `push` pushes; its result is a
    /// tensor, or nil for "unchanged".
    static func call(_ f: LuaReference, _ what: String, _ nargs: Int32, _ push: (OpaquePointer) -> Void) throws -> Tensor? {
        let L = f.L
        try f.call(nargs) { push(L) }
        defer { lp_pop(L, 1) }
        return try result(L, what)
    }

    static func function(_ c: LuaCall, _ i: Int32, _ what: String) throws -> LuaReference {
        guard lua_type(c.L, i) == LUA_TFUNCTION else { throw c.error("expected \(what) as a function, got \(c.typeName(i))") }
        return LuaReference(c.L, lua_absindex(c.L, i))
    }

    /// The hook's result on top of the stack: a tensor, or nil for "unchanged".
    static func result(_ L: OpaquePointer, _ what: String) throws -> Tensor? {
        if lua_type(L, -1) == LUA_TNIL { return nil }
        guard let p = lp_to_tensor(L, -1) else {
            throw LuaError("\(what): the hook returned \(String(cString: lp_typename_at(L, -1))), expected a tensor or nil")
        }
        return Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
    }

    /// Pushes a module outside a binding call.
    static func pushModule(_ L: OpaquePointer, _ m: Module) {
        if let lua = m as? LuaModule { lua.table.push() } else { ModuleBindings.module.push(L, m) }
    }

    /// The hooks kept for the Lua table at `i`, or nil.
    static func hooks(ofTable L: OpaquePointer, _ i: Int32) -> ModuleHooks? {
        let t = lua_absindex(L, i)
        lua_rawgetp(L, lp_registryindex(), boxesKey)
        defer { lp_pop(L, 2) }
        lua_pushvalue(L, t)
        lua_rawget(L, -2)
        return box.optional(L, -1)
    }

    /// Keeps `hooks` for the Lua table at `i`.
    static func setHooks(ofTable L: OpaquePointer, _ i: Int32, _ hooks: ModuleHooks?) {
        let t = lua_absindex(L, i)
        lua_rawgetp(L, lp_registryindex(), boxesKey)
        lua_pushvalue(L, t)
        if let hooks { box.push(L, hooks) } else { lua_pushnil(L) }
        lua_rawset(L, -3)
        lp_pop(L, 1)
    }

    static func install(_ L: OpaquePointer) {
        handle.install(L)
        box.install(L)
        lua_createtable(L, 0, 0)
        lua_createtable(L, 0, 1)
        lua_pushstring(L, "k")
        lua_setfield(L, -2, "__mode")
        lua_setmetatable(L, -2)
        lua_rawsetp(L, lp_registryindex(), boxesKey)
    }
}

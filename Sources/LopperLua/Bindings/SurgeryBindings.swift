import CLua
import LuaShim
import LopperCore
import LopperNN

/// Model surgery from Lua: `seq:insert`, `seq:remove`, `net:replace`, `net.child = m`,
/// `net:clone()`, and buffers of Lua-written modules (`t:as_buffer()`).
enum SurgeryBindings {
    static let moduleMethods: [LuaFunction] = [
        LuaFunction("insert") { c in
            // insert(position, [name,] module) → self: position 1 … #seq + 1 (appends).
            try c.arity(3, 4)
            let seq = try sequential(c, 1)
            let position = try c.int(2, "position")
            let name = lua_gettop(c.L) == 4 ? try c.string(3, "name") : nil
            let m = try ModuleBindings.check(c, lua_gettop(c.L), "a module to insert")
            guard position >= 1, position <= seq.children.count + 1 else {
                throw c.error("position \(position) is outside 1…\(seq.children.count + 1)")
            }
            try seq.insert(m, at: position - 1, name: name)
            lua_settop(c.L, 1)
            return 1
        },
        LuaFunction("remove") { c in
            // remove(name) → the module taken out.
            try c.arity(2, 2)
            let seq = try sequential(c, 1)
            let name = lua_type(c.L, 2) == LUA_TNUMBER ? try childName(c, seq, 2) : try c.string(2, "name")
            return ModuleBindings.pushModule(c, try seq.removeChild(name))
        },
        LuaFunction("replace") { c in
            // replace("blocks.0.conv1", module) → the module replaced.
            try c.arity(3, 3)
            let net = try ModuleBindings.check(c, 1)
            let path = try c.string(2, "path")
            let m = try ModuleBindings.check(c, 3, "a module to put in")
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard let last = parts.last, !last.isEmpty else { throw c.error("expected the path of a child, got '\(path)'") }
            let parent = try net.module(at: parts.dropLast().joined(separator: "."))
            guard let old = parent.children.first(where: { $0.0 == last })?.1 else {
                throw c.error("no module at '\(path)' (children there: \(parent.childList))")
            }
            guard old !== m else { return ModuleBindings.pushModule(c, old) }
            guard !m.namedModules().contains(where: { $0.1 === parent }) else {
                throw c.error("the module put in contains '\(path)''s parent: the network would contain itself")
            }
            try parent.replaceChild(last, with: m)
            return ModuleBindings.pushModule(c, old)
        },
        LuaFunction("clone") { c in
            // clone() → a deep copy: new tensors, same values and masks, no hooks.
            try c.arity(1, 1)
            return ModuleBindings.pushModule(c, try ModuleBindings.check(c, 1).clone())
        },
    ]

    /// `net.relu1 = m` and `seq[2] = m` replace a child.
    static let assign = LuaFunction("Module") { c in
        let m = try ModuleBindings.check(c, 1)
        let name: String
        if lua_type(c.L, 2) == LUA_TNUMBER {
            name = try childName(c, m, 2)
        } else {
            let key = lua_type(c.L, 2) == LUA_TSTRING ? try c.string(2, "a field name") : c.typeName(2)
            guard m.children.contains(where: { $0.0 == key }) else {
                throw c.error("cannot assign field '\(key)': only an existing child can be replaced (children: \(m.childList)); a Sequential takes new ones with seq:insert(position, name, module)")
            }
            name = key
        }
        let new = try ModuleBindings.check(c, 3, "a module for child '\(name)'")
        guard !new.namedModules().contains(where: { $0.1 === m }) else {
            throw c.error("the module put in as '\(name)' contains its parent: the network would contain itself")
        }
        try m.replaceChild(name, with: new)
        return 0
    }

    static let tensorMethods: [LuaFunction] = [
        LuaFunction("as_buffer") { c in
            // as_buffer([on = true]) → self: a Lua-written module saves this field as a buffer.
            try c.arity(1, 2)
            let t = try c.tensor(1)
            let on = try c.bool(2, "on", default: true)
            guard !(on && t.requiresGrad && t.gradFn == nil) else {
                throw c.error("a buffer is not trained: this tensor requires grad (it would be a parameter); use t:detach():as_buffer() or leave requires_grad off")
            }
            t.isBuffer = on
            lua_settop(c.L, 1)
            return 1
        },
    ]

    /// The name of the child at the 1-based position at `i`.
    static func childName(_ c: LuaCall, _ m: Module, _ i: Int32) throws -> String {
        let kids = m.children
        let k = try LuaCall.zeroBased(try c.int(i, "position"), size: kids.count, what: "position", of: "a module with \(kids.count) children", call: c)
        return kids[k].0
    }

    static func sequential(_ c: LuaCall, _ i: Int32) throws -> Sequential {
        let m = try ModuleBindings.check(c, i)
        guard let seq = m as? Sequential else {
            throw c.error("expected a Sequential (only its children are a list), got \(m.kind); replace a child of any module with net:replace(path, module)")
        }
        return seq
    }

    /// `lp.nn.module{…, buffers = {"name", …}}`: marks those fields' tensors as buffers and
    /// takes the list out of the table (it would hide the `buffers` method).
    static func markBuffers(_ c: LuaCall, _ i: Int32) throws {
        lua_pushstring(c.L, "buffers")
        defer { c.pop() }
        guard lua_rawget(c.L, i) != LUA_TNIL else { return }
        defer {
            lua_pushstring(c.L, "buffers")
            lua_pushnil(c.L)
            lua_rawset(c.L, i)
        }
        guard lua_type(c.L, -1) == LUA_TTABLE else { throw c.error("expected buffers as a list of field names, got \(c.typeName(-1))") }
        for k in stride(from: 1, through: Int(lua_rawlen(c.L, -1)), by: 1) {
            lua_rawgeti(c.L, -1, lua_Integer(k))
            defer { c.pop() }
            guard lua_type(c.L, -1) == LUA_TSTRING else { throw c.error("buffers entry \(k): expected a field name, got \(c.typeName(-1))") }
            let name = String(cString: lp_tostring(c.L, -1))
            lua_pushvalue(c.L, -1)
            lua_rawget(c.L, i)
            defer { c.pop() }
            guard let p = lp_to_tensor(c.L, -1) else { throw c.error("buffers entry '\(name)': the field holds \(c.typeName(-1)), expected a tensor") }
            let t = Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
            guard !(t.requiresGrad && t.gradFn == nil) else { throw c.error("buffers entry '\(name)': the tensor requires grad, so it is a parameter") }
            t.isBuffer = true
        }
    }
}

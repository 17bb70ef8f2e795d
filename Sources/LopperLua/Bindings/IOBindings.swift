import CLua
import LuaShim
import LopperCore
import LopperNN

/// Files: tensors to and from .safetensors and .npy (`lp.save`, `lp.load`, `lp.save_npy`,
/// `lp.load_npy`) and checkpoints (`lp.checkpoint.save/load`).
enum IOBindings {
    /// A Lua table of string keys → strings or numbers, as metadata strings.
    static func strings(_ c: LuaCall, _ i: Int32, _ what: String) throws -> [String: String] {
        guard lua_type(c.L, i) == LUA_TTABLE else { throw c.error("expected \(what) as a table, got \(c.typeName(i))") }
        var out: [String: String] = [:]
        let t = lua_absindex(c.L, i)
        lua_pushnil(c.L)
        while lua_next(c.L, t) != 0 {
            defer { c.pop() }
            guard lua_type(c.L, -2) == LUA_TSTRING else { throw c.error("expected string keys in \(what), got \(c.typeName(-2))") }
            let k = String(cString: lp_tostring(c.L, -2))
            switch lua_type(c.L, -1) {
            case LUA_TSTRING: out[k] = String(cString: lp_tostring(c.L, -1))
            case LUA_TNUMBER: out[k] = lp_isinteger(c.L, -1) != 0 ? String(lp_tointeger(c.L, -1)) : String(lp_tonumber(c.L, -1))
            case LUA_TBOOLEAN: out[k] = lua_toboolean(c.L, -1) != 0 ? "true" : "false"
            default: throw c.error("\(what).\(k) must be a string, number or boolean, got \(c.typeName(-1))")
            }
        }
        return out
    }

    static func pushStrings(_ c: LuaCall, _ m: [String: String]) {
        lua_createtable(c.L, 0, Int32(m.count))
        for (k, v) in m { c.push(v); lua_setfield(c.L, -2, k) }
    }

    static let functions: [LuaFunction] = [
        LuaFunction("save") { c in
            // save(path, {name = tensor, …} [, metadata]) → writes a .safetensors file (names sorted).
            try c.arity(2, 3)
            let path = try c.string(1, "path")
            guard lua_type(c.L, 2) == LUA_TTABLE else { throw c.error("expected a table of name → tensor, got \(c.typeName(2))") }
            var entries: [Safetensors.Entry] = []
            lua_pushnil(c.L)
            while lua_next(c.L, 2) != 0 {
                defer { c.pop() }
                guard lua_type(c.L, -2) == LUA_TSTRING else { throw c.error("expected string names, got a \(c.typeName(-2)) key") }
                let name = String(cString: lp_tostring(c.L, -2))
                entries.append(.init(name, try c.tensor(-1, "\(name) to be a tensor")))
            }
            entries.sort { $0.name < $1.name }
            try Safetensors.save(path, entries, metadata: c.isNil(3) ? [:] : try strings(c, 3, "metadata"))
            return 0
        },
        LuaFunction("load") { c in
            // load(path) → {name = tensor, …}, metadata
            try c.arity(1, 1)
            let (tensors, metadata) = try Safetensors.load(try c.string(1, "path"))
            lua_createtable(c.L, 0, Int32(tensors.count))
            for (name, t) in tensors { c.push(t); lua_setfield(c.L, -2, name) }
            pushStrings(c, metadata)
            return 2
        },
        LuaFunction("save_npy") { c in
            try c.arity(2, 2)
            try Npy.save(try c.string(1, "path"), try c.tensor(2))
            return 0
        },
        LuaFunction("load_npy") { c in
            try c.arity(1, 1)
            return c.push(try Npy.load(try c.string(1, "path")))
        },
    ]

    static let checkpoint: [LuaFunction] = [
        LuaFunction("save") { c in
            // checkpoint.save(path, {net = …, optimizer = …, rng = true, meta = {…}})
            try c.arity(2, 2)
            let path = try c.string(1, "path")
            let o = try LuaOptions(c, 2, known: ["net", "optimizer", "rng", "meta"])
            let net = try o.get("net") { try ModuleBindings.check(c, $0, "net to be a module") }
            let opt = try o.get("optimizer") { try OptimBindings.optimizer.check(c, $0) }
            let meta = try o.get("meta") { try strings(c, $0, "meta") } ?? [:]
            try Checkpoint.save(path, net: net, optimizer: opt, rng: try o.bool("rng") ?? true ? RandomGenerator.shared : nil, metadata: meta)
            return 0
        },
        LuaFunction("load") { c in
            // checkpoint.load(path, {net = …, optimizer = …, rng = true, strict = true}) → meta
            try c.arity(2, 2)
            let path = try c.string(1, "path")
            let o = try LuaOptions(c, 2, known: ["net", "optimizer", "rng", "strict"])
            let net = try o.get("net") { try ModuleBindings.check(c, $0, "net to be a module") }
            let opt = try o.get("optimizer") { try OptimBindings.optimizer.check(c, $0) }
            // rng: restore the random state if the file has it; true insists, false skips.
            let rng = try o.bool("rng")
            let meta = try Checkpoint.load(path, net: net, optimizer: opt, rng: rng ?? true ? RandomGenerator.shared : nil,
                                           strict: try o.bool("strict") ?? true, requireRNG: rng == true)
            pushStrings(c, meta)
            return 1
        },
    ]
}

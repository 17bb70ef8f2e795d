import CLua
import LuaShim
import LopperCore
import LopperPrune

/// Mask sets in Lua: `lp.prune.masks(net)` and `lp.masks{name = tensor, …}`.
///
///     local m = lp.prune.masks(net)
///     print(m:density(), m["fc1.weight"]:sum())
///     local overlap = m:jaccard(other)          -- overall, and a table per layer
enum MaskBindings {
    static let masks: LuaClass<MaskSet> = LuaClass("Masks", methods: [
        LuaFunction("names") { c in
            try c.arity(1, 1)
            return c.push(strings: try masks.check(c, 1).names)
        },
        LuaFunction("get") { c in
            try c.arity(2, 2)
            return try push(c, try masks.check(c, 1), try c.string(2, "name"))
        },
        LuaFunction("count") { c in
            // count() → kept, total
            try c.arity(1, 1)
            let n = try masks.check(c, 1).count
            c.push(int: n.kept)
            return c.push(int: n.total) + 1
        },
        LuaFunction("density") { c in try c.arity(1, 1); return c.push(try masks.check(c, 1).density) },
        LuaFunction("layers") { c in
            // layers() → {{name=, kept=, total=, density=}, …}
            try c.arity(1, 1)
            return PruneBindings.push(layers: try masks.check(c, 1).perLayer, c)
        },
        LuaFunction("union") { c in try c.arity(2, 2); return masks.push(c, try masks.check(c, 1).union(try check(c, 2))) },
        LuaFunction("intersection") { c in try c.arity(2, 2); return masks.push(c, try masks.check(c, 1).intersection(try check(c, 2))) },
        LuaFunction("difference") { c in try c.arity(2, 2); return masks.push(c, try masks.check(c, 1).difference(try check(c, 2))) },
        LuaFunction("invert") { c in try c.arity(1, 1); return masks.push(c, try masks.check(c, 1).inverted()) },
        LuaFunction("jaccard") { c in
            // jaccard(other) → overall overlap, {name = overlap, …}
            try c.arity(2, 2)
            let j = try masks.check(c, 1).jaccard(try check(c, 2))
            c.push(j.overall)
            lua_createtable(c.L, 0, Int32(j.perLayer.count))
            for (n, v) in j.perLayer { c.push(v); lua_setfield(c.L, -2, n) }
            return 2
        },
        LuaFunction("shuffle") { c in
            // shuffle([seed]) → the masks with each layer's entries permuted (same densities)
            try c.arity(1, 2)
            let m = try masks.check(c, 1)
            let rng = c.isNil(2) ? RandomGenerator.shared : RandomGenerator(seed: UInt64(bitPattern: Int64(try c.int(2, "seed"))))
            return masks.push(c, try m.shuffled(rng))
        },
        LuaFunction("apply") { c in
            // apply(net): sets these masks on the network and zeroes what they remove.
            try c.arity(2, 2)
            try masks.check(c, 1).apply(to: try ModuleBindings.check(c, 2))
            return 0
        },
        LuaFunction("to_table") { c in
            try c.arity(1, 1)
            let m = try masks.check(c, 1)
            lua_createtable(c.L, 0, Int32(m.entries.count))
            for e in m.entries { c.push(try e.mask.clone().detach()); lua_setfield(c.L, -2, e.name) }
            return 1
        },
    ], metamethods: [
        ("__len", LuaFunction("#") { c in c.push(int: try masks.check(c, 1).entries.count) }),
        ("__tostring", LuaFunction("tostring") { c in
            let m = try masks.check(c, 1)
            let n = m.count
            return c.push(String(format: "Masks: %d tensors, %d of %d kept (%.2f%%)", m.entries.count, n.kept, n.total, 100 * m.density))
        }),
    ], indexer: LuaFunction("index") { c in
        let m = try masks.check(c, 1)
        guard lua_type(c.L, 2) == LUA_TSTRING else { return c.pushNil() }
        let name = try c.string(2, "name")
        return m.mask(name) == nil ? c.pushNil() : try push(c, m, name)
    })

    /// A copy of one mask (changing it does not change the set).
    static func push(_ c: LuaCall, _ m: MaskSet, _ name: String) throws -> Int32 {
        guard let t = m.mask(name) else {
            throw c.error("no mask named \(name) (masks: \(m.names.joined(separator: ", ")))")
        }
        return c.push(try t.clone().detach())
    }

    /// A mask set, or a table name → 0/1 tensor (taken in name order).
    static func check(_ c: LuaCall, _ i: Int32) throws -> MaskSet {
        if let m = masks.optional(c, i) { return m }
        guard lua_type(c.L, i) == LUA_TTABLE else { throw c.error("expected masks (lp.prune.masks or a table of tensors), got \(c.typeName(i))") }
        let t = lua_absindex(c.L, i)
        var entries: [(String, Tensor)] = []
        lua_pushnil(c.L)
        while lua_next(c.L, t) != 0 {
            defer { lp_pop(c.L, 1) }
            guard lua_type(c.L, -2) == LUA_TSTRING else { throw c.error("expected masks keyed by parameter name, got a key of type \(c.typeName(-2))") }
            let name = String(cString: lp_tostring(c.L, -2))
            entries.append((name, try c.tensor(-1, "mask \(name) to be a tensor")))
        }
        entries.sort { $0.0 < $1.0 }
        return try MaskSet(entries)
    }

    static let constructor = LuaFunction("masks") { c in
        // lp.masks{name = tensor, …} → a mask set
        try c.arity(1, 1)
        return masks.push(c, try check(c, 1))
    }
}

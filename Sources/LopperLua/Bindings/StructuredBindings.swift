import CLua
import LuaShim
import LopperCore
import LopperNN
import LopperPrune

/// `lp.compact`: a masked network made physically thinner; `lp.prune.groups`: the channels
/// structured pruning removes together.
enum StructuredBindings {
    static let groups = LuaFunction("groups") { c in
        // groups(net [, {input}]) → {{name, channels, prunable, fixed, producers, consumers, norms}}
        try c.arity(1, 2)
        let net = try ModuleBindings.check(c, 1)
        let o = try LuaOptions(c, 2, known: ["input"])
        let groups = try DependencyGroups.find(net, inputShape: try o.get("input") { try c.intList($0, "input") })
        lua_createtable(c.L, Int32(groups.count), 0)
        for (k, g) in groups.enumerated() {
            lua_createtable(c.L, 0, 8)
            c.push(g.name); lua_setfield(c.L, -2, "name")
            c.push(int: g.channels); lua_setfield(c.L, -2, "channels")
            c.push(g.prunable); lua_setfield(c.L, -2, "prunable")
            if let why = g.fixed { c.push(why); lua_setfield(c.L, -2, "fixed") }
            c.push(g.keepsZeros); lua_setfield(c.L, -2, "keeps_zeros")
            for (key, ms) in [("producers", g.producers), ("consumers", g.consumers), ("norms", g.norms)] {
                c.push(strings: ms.map { $0.name }); lua_setfield(c.L, -2, key)
            }
            lua_rawseti(c.L, -2, lua_Integer(k + 1))
        }
        return 1
    }

    static let compact = LuaFunction("compact") { c in
        // compact(net [, {optimizer, input, sparse = false, batch = 1}]) → compacted net, report [, optimizer carried over]
        try c.arity(1, 2)
        let net = try ModuleBindings.check(c, 1)
        let o = try LuaOptions(c, 2, known: ["optimizer", "input", "sparse", "batch"])
        let opt = try o.get("optimizer") { try OptimBindings.optimizer.check(c, $0) }
        let input = try o.get("input") { try c.intList($0, "input") }
        let masked = net.namedParameters().contains { $0.1.mask != nil }
        let r = try Compaction.compact(net, inputShape: input)
        var notes = r.notes
        if !masked { notes.insert("no parameter has a mask: the network is returned as a copy", at: 0) }
        let sparse = try o.bool("sparse") ?? false
        if sparse && opt != nil { throw c.error("sparse layers are inference-only: carry an optimizer over without sparse = true") }
        let choices = sparse ? try SparseConversion.convert(r.net, batch: try o.int("batch") ?? 1) : []
        ModuleBindings.pushModule(c, r.net)
        lua_createtable(c.L, 0, 5)
        lua_createtable(c.L, Int32(r.layers.count), 0)
        for (k, (name, before, after)) in r.layers.enumerated() {
            lua_createtable(c.L, 0, 3)
            c.push(name); lua_setfield(c.L, -2, "name")
            c.push(int: before); lua_setfield(c.L, -2, "before")
            c.push(int: after); lua_setfield(c.L, -2, "after")
            lua_rawseti(c.L, -2, lua_Integer(k + 1))
        }
        lua_setfield(c.L, -2, "layers")
        lua_createtable(c.L, Int32(choices.count), 0)
        for (k, ch) in choices.enumerated() {
            lua_createtable(c.L, 0, 5)
            c.push(ch.name); lua_setfield(c.L, -2, "name")
            c.push(ch.density); lua_setfield(c.L, -2, "density")
            c.push(ch.denseSeconds * 1e6); lua_setfield(c.L, -2, "dense_us")
            c.push(ch.sparseSeconds * 1e6); lua_setfield(c.L, -2, "sparse_us")
            c.push(ch.sparse); lua_setfield(c.L, -2, "sparse")
            lua_rawseti(c.L, -2, lua_Integer(k + 1))
        }
        lua_setfield(c.L, -2, "sparse")
        c.push(strings: notes); lua_setfield(c.L, -2, "notes")
        c.push(int: net.parameterCount); lua_setfield(c.L, -2, "params_before")
        c.push(int: r.net.parameterCount); lua_setfield(c.L, -2, "params_after")
        guard let opt else { return 2 }
        let carried = try opt.carried(over: r.net.namedParameters()) { name, t in
            guard let s = r.slices[name] else { return try t.clone() }
            return try Compaction.slice(t, rows: s.rows, columns: t.rank > 1 ? s.columns : nil)
        }
        return OptimBindings.optimizer.push(c, carried) + 2
    }
}

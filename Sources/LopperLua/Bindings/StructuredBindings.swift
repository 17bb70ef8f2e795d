import CLua
import LuaShim
import LopperCore
import LopperNN
import LopperPrune

/// `lp.compact`: a masked network made physically thinner; `lp.prune.groups`: the channels
/// structured pruning removes together.
enum StructuredBindings {
    static let coreset = LuaFunction("coreset") { c in
        // coreset(net, layer, m [, {deterministic = false, tolerance = 1e-3}]) → {kept, scales, draws, sensitivities}
        try c.arity(3, 4)
        let net = try ModuleBindings.check(c, 1)
        let layer = try c.string(2, "layer (a module path or a weight's name)")
        guard let m = try c.optInt(3, "m") else { throw c.error("expected m, the number of neurons to keep") }
        let o = try LuaOptions(c, 4, known: ["deterministic", "tolerance"])
        let params = Dictionary(net.namedParameters(), uniquingKeysWith: { a, _ in a })
        let name = params[layer] != nil ? layer : (layer.isEmpty ? "weight" : layer + ".weight")
        guard let weight = params[name], weight.rank >= 2 else {
            throw c.error("the network has no layer \(layer) with a weight (layers: \(net.namedParameters().map { $0.0 }.filter { $0.hasSuffix("weight") }.joined(separator: ", ")))")
        }
        let tolerance = try o.number("tolerance") ?? 1e-3
        guard tolerance > 0 && tolerance.isFinite else { throw c.error("tolerance must be positive, got \(tolerance)") }
        let r = try NeuronCoreset.prune(net, weight: weight, name: name, keep: m, deterministic: try o.bool("deterministic") ?? false,
                                        tolerance: tolerance)
        lua_createtable(c.L, 0, 4)
        c.push(ints: r.kept.map { $0 + 1 }); lua_setfield(c.L, -2, "kept")
        lua_createtable(c.L, Int32(r.scales.count), 0)
        for (k, v) in r.scales.enumerated() { c.push(v); lua_rawseti(c.L, -2, lua_Integer(k + 1)) }
        lua_setfield(c.L, -2, "scales")
        c.push(int: r.draws); lua_setfield(c.L, -2, "draws")
        c.push(try Tensor(shape: [r.sensitivities.count], values: r.sensitivities.map { Float($0) })); lua_setfield(c.L, -2, "sensitivities")
        return 1
    }

    static let mvee = LuaFunction("mvee") { c in
        // mvee(points [N, d] [, {tolerance = 1e-3}]) → {weights [N], leverages [N], shape [d, d], iterations, converged}
        try c.arity(1, 2)
        let x = try c.tensor(1, "points as a [N, d] tensor")
        guard x.rank == 2, x.shape[0] >= 1, x.shape[1] >= 1, x.shape[1] <= NeuronCoreset.maxDimension else {
            throw c.error("expected points as a [N, d] tensor with 1 ≤ d ≤ \(NeuronCoreset.maxDimension), got \(describeShape(x.shape))")
        }
        let o = try LuaOptions(c, 2, known: ["tolerance"])
        let tolerance = try o.number("tolerance") ?? 1e-3
        guard tolerance > 0 && tolerance.isFinite else { throw c.error("tolerance must be positive, got \(tolerance)") }
        let values = try x.contiguous().toArray().map(Double.init)
        let r = try MVEE.khachiyan(values, count: x.shape[0], dimension: x.shape[1], tolerance: tolerance)
        lua_createtable(c.L, 0, 5)
        c.push(try Tensor(shape: [r.weights.count], values: r.weights.map { Float($0) })); lua_setfield(c.L, -2, "weights")
        c.push(try Tensor(shape: [r.leverages.count], values: r.leverages.map { Float($0) })); lua_setfield(c.L, -2, "leverages")
        c.push(try Tensor(shape: [r.dimension, r.dimension], values: r.shape.map { Float($0) })); lua_setfield(c.L, -2, "shape")
        c.push(int: r.iterations); lua_setfield(c.L, -2, "iterations")
        c.push(r.converged); lua_setfield(c.L, -2, "converged")
        return 1
    }

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
        let choices = sparse ? try SparseConversion.convert(r.net, batch: try o.int("batch") ?? 1, inputShape: input ?? net.inputShape) : []
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

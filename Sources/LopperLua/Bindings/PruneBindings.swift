import CLua
import LuaShim
import LopperCore
import LopperNN
import LopperPrune

/// `lp.prune`: which tensors are prunable, scores, pruning, masks, snapshots and
/// rewinding, statistics.
///
///     lp.prune.prune(net, {score = "magnitude", amount = 0.2, scope = "layer",
///                          overrides = {["fc3.weight"] = 0.1}})
///     lp.prune.prune(net, {score = "synflow", density = 0.01, iterations = 100})
enum PruneBindings {
    static let selectionKeys = ["include_bias", "include_norm", "exclude_first", "exclude_last", "exclude", "only"]
    static let dataKeys = ["data", "batch_size", "batches", "samples_per_class", "temperature", "input_shape", "beta"]
    static let pruneKeys = ["score", "amount", "density", "count", "scope", "allocation", "overrides", "structure",
                            "group_reduce", "min_per_layer", "iterations", "schedule"] + selectionKeys + dataKeys

    /// A Lua list of strings.
    static func stringList(_ c: LuaCall, _ i: Int32, _ what: String) throws -> [String] {
        guard lua_type(c.L, i) == LUA_TTABLE else { throw c.error("expected \(what) as a list of names, got \(c.typeName(i))") }
        return try (0..<lua_rawlen(c.L, i)).map { k in
            lua_rawgeti(c.L, i, lua_Integer(k + 1))
            defer { c.pop() }
            return try c.string(-1, "\(what)[\(k + 1)]")
        }
    }

    static func selection(_ o: LuaOptions, _ c: LuaCall) throws -> PrunableSelection {
        var s = PrunableSelection()
        s.includeBias = try o.bool("include_bias") ?? false
        s.includeNorm = try o.bool("include_norm") ?? false
        s.excludeFirst = try o.bool("exclude_first") ?? false
        s.excludeLast = try o.bool("exclude_last") ?? false
        s.exclude = Set(try o.get("exclude") { try stringList(c, $0, "exclude") } ?? [])
        s.only = try o.get("only") { try stringList(c, $0, "only") }
        return s
    }

    /// The data options of data-driven scores; sets the network's input shape if given.
    static func scoreData(_ o: LuaOptions, _ c: LuaCall, _ net: Module) throws -> ScoreData? {
        if let shape = try o.get("input_shape", { try c.intList($0, "input_shape") }) { net.inputShape = shape }
        guard let ds = try o.get("data", { try DataBindings.dataset.check(c, $0) }) else { return nil }
        var d = ScoreData(dataset: ds)
        if net.inputShape == nil { net.inputShape = ds.sampleShape }
        if let v = try o.int("batch_size") { d.batchSize = v }
        if let v = try o.int("batches") { d.batches = v }
        if let v = try o.int("samples_per_class") { d.samplesPerClass = v }
        if let v = try o.float("temperature") { d.temperature = v }
        if let v = try o.number("beta") { d.beta = v }
        guard d.batchSize >= 1, d.batches >= 1, d.samplesPerClass >= 1, d.temperature > 0 else {
            throw c.error("batch_size, batches, samples_per_class and temperature must be positive")
        }
        return d
    }

    /// A score: a built-in name, a Lua function(net, names) → {name = tensor}, or such a table.
    static func scoreFunction(_ c: LuaCall, _ i: Int32, net: Module, netIndex: Int32, targets: [PrunableTensor],
                              data: ScoreData?) throws -> Pruner.ScoreFunction {
        switch lua_type(c.L, i) {
        case LUA_TSTRING:
            let name = try c.string(i, "score")
            guard let kind = ScoreKind(rawValue: name) else {
                throw c.error("unknown score '\(name)' (known: \(ScoreKind.allCases.map { $0.rawValue }.joined(separator: ", ")), or a function)")
            }
            return { try Scores.compute(kind, net: net, targets: targets, data: data) }
        case LUA_TFUNCTION:
            let f = LuaReference(c.L, lua_absindex(c.L, i)), netRef = LuaReference(c.L, netIndex)
            return {
                let L = f.L
                try f.call(2) {
                    netRef.push()
                    lua_createtable(L, Int32(targets.count), 0)
                    for (k, t) in targets.enumerated() { lua_pushstring(L, t.name); lua_rawseti(L, -2, lua_Integer(k + 1)) }
                }
                defer { lp_pop(L, 1) }
                return try scoreTable(L, -1, targets, source: "score function")
            }
        case LUA_TTABLE:
            let scores = try scoreTable(c.L, i, targets, source: "score table")
            return { scores }
        default:
            throw c.error("expected score as a name, a function(net, names) or a table of tensors, got \(c.typeName(i))")
        }
    }

    /// Reads {name = tensor} for every target from the table at `i`.
    static func scoreTable(_ L: OpaquePointer, _ i: Int32, _ targets: [PrunableTensor], source: String) throws -> [Tensor] {
        guard lua_type(L, i) == LUA_TTABLE else {
            throw LuaError("prune: the \(source) gave \(String(cString: lp_typename_at(L, i))), expected a table {name = tensor}")
        }
        let t = lua_absindex(L, i)
        return try targets.map { target in
            // Protected: a score table's __index may raise, and must not unwind through Swift.
            lua_pushstring(L, target.name)
            lp_pgettable(L, t)
            defer { lp_pop(L, 1) }
            guard let p = lp_to_tensor(L, -1) else {
                throw LuaError("prune: the \(source) gave no tensor for \(target.name)")
            }
            return Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue().detach()
        }
    }

    /// "sum", "mean", "max", or a Lua function(scores [members, channels]) → [channels].
    static func groupReduce(_ c: LuaCall, _ i: Int32) throws -> PruneSpec.GroupReduce {
        if lua_type(c.L, i) == LUA_TFUNCTION {
            let f = LuaReference(c.L, lua_absindex(c.L, i))
            return .custom { m in
                let L = f.L
                try f.call(1) { pushTensor(L, m) }
                defer { lp_pop(L, 1) }
                guard let p = lp_to_tensor(L, -1) else {
                    throw LuaError("prune: group_reduce gave \(String(cString: lp_typename_at(L, -1))), expected a tensor of one score per channel")
                }
                return Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue().detach()
            }
        }
        switch try c.string(i, "group_reduce") {
        case "sum": return .sum
        case "mean": return .mean
        case "max": return .max
        case "producers": return .producers
        case let s: throw c.error("unknown group_reduce '\(s)' (known: sum, mean, max, producers, or a function)")
        }
    }

    static func pushReport(_ c: LuaCall, _ r: PruneReport) {
        let L = c.L
        lua_createtable(L, 0, 6)
        c.push(r.reachedDensity); lua_setfield(L, -2, "density")
        c.push(r.targetDensity); lua_setfield(L, -2, "target")
        c.push(int: r.rounds); lua_setfield(L, -2, "rounds")
        c.push(strings: r.collapsed)
        lua_setfield(L, -2, "collapsed")
        if let connected = r.connected { c.push(connected); lua_setfield(L, -2, "connected") }
        push(layers: r.layers, c)
        lua_setfield(L, -2, "layers")
    }

    /// {{name, kept, total, density}, …}
    @discardableResult
    static func push(layers: [(name: String, kept: Int, total: Int)], _ c: LuaCall) -> Int32 {
        lua_createtable(c.L, Int32(layers.count), 0)
        for (i, l) in layers.enumerated() {
            lua_createtable(c.L, 0, 4)
            c.push(l.name); lua_setfield(c.L, -2, "name")
            c.push(int: l.kept); lua_setfield(c.L, -2, "kept")
            c.push(int: l.total); lua_setfield(c.L, -2, "total")
            c.push(l.total == 0 ? 1 : Double(l.kept) / Double(l.total)); lua_setfield(c.L, -2, "density")
            lua_rawseti(c.L, -2, lua_Integer(i + 1))
        }
        return 1
    }

    static let snapshot: LuaClass<Snapshot> = LuaClass("Snapshot", methods: [
        LuaFunction("iteration") { c in
            try c.arity(1, 1)
            guard let it = try snapshot.check(c, 1).iteration else { return c.pushNil() }
            return c.push(int: it)
        },
    ], metamethods: [
        ("__tostring", LuaFunction("tostring") { c in
            let s = try snapshot.check(c, 1)
            return c.push("Snapshot of \(s.state.count) tensors" + (s.iteration.map { " at step \($0)" } ?? ""))
        }),
    ])

    static let functions: [LuaFunction] = [
        LuaFunction("prunable") { c in
            // prunable(net [, selection]) → names of the tensors pruning would mask
            try c.arity(1, 2)
            let net = try ModuleBindings.check(c, 1)
            return c.push(strings: try selection(try LuaOptions(c, 2, known: selectionKeys), c).select(net, op: c.name).map { $0.name })
        },
        LuaFunction("score") { c in
            // score(net, name | function [, {data, batch_size, …, selection}]) → {name = tensor}
            try c.arity(2, 3)
            let net = try ModuleBindings.check(c, 1)
            let o = try LuaOptions(c, 3, known: selectionKeys + dataKeys)
            let targets = try selection(o, c).select(net, op: c.name)
            let f = try scoreFunction(c, 2, net: net, netIndex: 1, targets: targets, data: try scoreData(o, c, net))
            let scores = try f()
            try Scores.validate(scores, targets, source: c.name)
            lua_createtable(c.L, 0, Int32(targets.count))
            for (t, s) in zip(targets, scores) { c.push(s); lua_setfield(c.L, -2, t.name) }
            return 1
        },
        LuaFunction("prune") { c in
            // prune(net, {score = "magnitude", amount = | density =, scope = "global", …}) → report
            try c.arity(2, 2)
            let net = try ModuleBindings.check(c, 1)
            let o = try LuaOptions(c, 2, known: pruneKeys)
            let targets = try selection(o, c).select(net, op: c.name)
            let amount = try o.number("amount"), density = try o.number("density"), count = try o.int("count")
            if let s = try o.string("structure"), s.contains(":") {
                guard let (n, m) = NofM.parse(s) else { throw c.error("structure '\(s)': expected N:M with 1 ≤ N < M ≤ 64, as \"2:4\"") }
                guard amount == nil, density == nil, count == nil else {
                    throw c.error("\(s) sparsity keeps \(n) of every \(m): give no amount, density or count")
                }
                let data = try scoreData(o, c, net)
                guard let f = try o.get("score", { try scoreFunction(c, $0, net: net, netIndex: 1, targets: targets, data: data) }) else {
                    throw c.error("expected option score (\(ScoreKind.allCases.map { $0.rawValue }.joined(separator: ", ")), or a function)")
                }
                pushReport(c, try NofM.prune(net, targets: targets, n: n, m: m, score: f))
                return 1
            }
            var spec: PruneSpec
            switch (amount, density, count) {
            case (let a?, nil, nil): spec = PruneSpec(target: .amount(a))
            case (nil, let d?, nil): spec = PruneSpec(target: .density(d))
            case (nil, nil, let k?): spec = PruneSpec(target: .count(k))
            case (nil, nil, nil): throw c.error("expected option amount (fraction of what remains to remove), density (fraction to keep) or count (how many to remove)")
            default: throw c.error("give one of amount, density and count")
            }
            if let s = try o.string("scope") {
                guard let v = PruneSpec.Scope(rawValue: s) else { throw c.error("unknown scope '\(s)' (known: global, layer)") }
                spec.scope = v
            }
            if let s = try o.string("allocation") {
                guard let v = Allocation(rawValue: s) else { throw c.error("unknown allocation '\(s)' (known: uniform, er, erk)") }
                guard density != nil else { throw c.error("allocation needs a density target") }
                spec.allocation = v
            }
            if let s = try o.string("structure") {
                // A Linear layer's channels are its neurons.
                guard let v = PruneSpec.Structure(rawValue: s == "neuron" ? "channel" : s) else { throw c.error("unknown structure '\(s)' (known: unstructured, channel (or neuron), group, or N:M as \"2:4\")") }
                spec.structure = v
            }
            if let r = try o.get("group_reduce", { try groupReduce(c, $0) }) {
                guard spec.structure == .group else { throw c.error("group_reduce needs structure = \"group\"") }
                spec.groupReduce = r
            }
            if let s = try o.string("schedule") {
                guard let v = PruneSpec.Schedule(rawValue: s) else { throw c.error("unknown schedule '\(s)' (known: exponential, linear)") }
                spec.schedule = v
            }
            if let v = try o.int("min_per_layer") { spec.minPerLayer = v }
            if let v = try o.int("iterations") { spec.iterations = v }
            if let table = try o.get("overrides", { i -> [String: Double] in
                guard lua_type(c.L, i) == LUA_TTABLE else { throw c.error("expected overrides as a table {name = value}, got \(c.typeName(i))") }
                var out: [String: Double] = [:]
                let t = lua_absindex(c.L, i)
                lua_pushnil(c.L)
                while lua_next(c.L, t) != 0 {
                    defer { c.pop() }
                    guard lua_type(c.L, -2) == LUA_TSTRING else { throw c.error("expected overrides keyed by parameter name") }
                    out[String(cString: lp_tostring(c.L, -2))] = try c.number(-1, "override")
                }
                return out
            }) { spec.overrides = table }
            let data = try scoreData(o, c, net)
            if let name = try o.get("score", { lua_type(c.L, $0) == LUA_TSTRING ? try c.string($0, "score") : nil }) ?? nil,
               let kind = ScoreKind(rawValue: name), kind.ranksChannels {
                guard spec.structure != .unstructured else {
                    throw c.error("score '\(name)' ranks channels by their outputs: give structure = \"channel\" or \"group\"")
                }
                spec.channelReduce = .max
            }
            guard let f = try o.get("score", { try scoreFunction(c, $0, net: net, netIndex: 1, targets: targets, data: data) }) else {
                throw c.error("expected option score (\(ScoreKind.allCases.map { $0.rawValue }.joined(separator: ", ")), or a function)")
            }
            pushReport(c, try Pruner.prune(net, targets: targets, spec: spec, score: f))
            return 1
        },
        LuaFunction("masks") { c in
            // masks(net [, selection]) → the masks of the prunable tensors (ones where none)
            try c.arity(1, 2)
            let net = try ModuleBindings.check(c, 1)
            return MaskBindings.masks.push(c, try MaskSet.current(net, try selection(try LuaOptions(c, 2, known: selectionKeys), c).select(net, op: c.name)))
        },
        LuaFunction("apply") { c in
            // apply(net, masks): sets masks (a mask set or {name = tensor}) and zeroes what they remove
            try c.arity(2, 2)
            try MaskBindings.check(c, 2).apply(to: try ModuleBindings.check(c, 1))
            return 0
        },
        LuaFunction("clear") { c in
            // clear(net): removes every mask; weights keep their values
            try c.arity(1, 1)
            MaskSet.clear(try ModuleBindings.check(c, 1))
            return 0
        },
        LuaFunction("stats") { c in
            // stats(net [, selection]) → {layers = {{name, shape, params, nonzero, density, macs, macs_kept}},
            //                             params, nonzero, density, macs, macs_kept, total_params, total_nonzero, text}
            try c.arity(1, 2)
            let net = try ModuleBindings.check(c, 1)
            let s = try PruneStatistics(net, targets: try selection(try LuaOptions(c, 2, known: selectionKeys), c).select(net, op: c.name))
            let L = c.L
            lua_createtable(L, 0, 9)
            lua_createtable(L, Int32(s.layers.count), 0)
            for (i, l) in s.layers.enumerated() {
                lua_createtable(L, 0, 7)
                c.push(l.name); lua_setfield(L, -2, "name")
                c.push(ints: l.shape); lua_setfield(L, -2, "shape")
                c.push(int: l.parameters); lua_setfield(L, -2, "params")
                c.push(int: l.nonzero); lua_setfield(L, -2, "nonzero")
                c.push(l.density); lua_setfield(L, -2, "density")
                if let m = l.macs { c.push(int: m); lua_setfield(L, -2, "macs") }
                if let m = l.effectiveMACs { c.push(int: m); lua_setfield(L, -2, "macs_kept") }
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
            lua_setfield(L, -2, "layers")
            c.push(int: s.prunableParameters); lua_setfield(L, -2, "params")
            c.push(int: s.prunableNonzero); lua_setfield(L, -2, "nonzero")
            c.push(s.density); lua_setfield(L, -2, "density")
            if let m = s.macs { c.push(int: m); lua_setfield(L, -2, "macs") }
            if let m = s.effectiveMACs { c.push(int: m); lua_setfield(L, -2, "macs_kept") }
            c.push(int: s.totalParameters); lua_setfield(L, -2, "total_params")
            c.push(int: s.totalNonzero); lua_setfield(L, -2, "total_nonzero")
            c.push(s.table()); lua_setfield(L, -2, "text")
            return 1
        },
        LuaFunction("snapshot") { c in
            // snapshot(net [, optimizer]) → the weights (and optimizer state and step) now
            try c.arity(1, 2)
            let net = try ModuleBindings.check(c, 1)
            let opt = c.isNil(2) ? nil : try OptimBindings.optimizer.check(c, 2)
            return snapshot.push(c, try Snapshot(net, optimizer: opt))
        },
        LuaFunction("rewind") { c in
            // rewind(net, snapshot [, optimizer]): weights (and optimizer state, step) back; masks kept
            try c.arity(2, 3)
            let net = try ModuleBindings.check(c, 1)
            let snap = try snapshot.check(c, 2)
            try snap.rewind(net, optimizer: c.isNil(3) ? nil : try OptimBindings.optimizer.check(c, 3))
            return 0
        },
        LuaFunction("rewind_lr") { c in
            // rewind_lr(optimizer, snapshot): only the schedule's step goes back (Renda et al.)
            try c.arity(2, 2)
            try snapshot.check(c, 2).rewindSchedule(try OptimBindings.optimizer.check(c, 1))
            return 0
        },
    ]

    static func install(_ L: OpaquePointer) {
        MaskBindings.masks.install(L)
        snapshot.install(L)
    }
}

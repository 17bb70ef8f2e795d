import CLua
import LuaShim
import LopperCore
import LopperNN

/// `lp.train`, `lp.evaluate` and `lp.models`.
enum TrainBindings {
    /// A Lua loss function(output, target) → one-element tensor.
    static func lossFunction(_ c: LuaCall, _ i: Int32) throws -> Trainer.Loss {
        guard lua_type(c.L, i) == LUA_TFUNCTION else { throw c.error("expected loss to be a function(output, target), got \(c.typeName(i))") }
        let f = LuaReference(c.L, lua_absindex(c.L, i))
        return { out, y in
            let L = f.L
            try f.call(2) { pushTensor(L, out); pushTensor(L, y) }
            defer { lp_pop(L, 1) }
            guard let p = lp_to_tensor(L, -1) else {
                throw LuaError("loss: the Lua function returned \(String(cString: lp_typename_at(L, -1))), expected a tensor")
            }
            return Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
        }
    }

    /// A mask updater (`lp.sparse.updater`, or any table with `step`, and optionally
    /// `start` and `finish`): its methods, called as `u:step(net, optimizer, t)`.
    final class Updater {
        let table: LuaReference
        var methods: [String: LuaReference] = [:]

        init(_ table: LuaReference) { self.table = table }

        /// Calls `u:name(net, optimizer, …)` when the updater has it.
        func call(_ name: String, _ net: LuaReference, _ opt: LuaReference, _ extra: (OpaquePointer) -> Void) throws {
            guard let f = methods[name] else { return }
            let L = f.L
            let base = lua_gettop(L)
            f.push(); table.push(); net.push(); opt.push(); extra(L)
            if lp_pcall(L, lua_gettop(L) - base - 1, 0, 0) != LUA_OK { throw LuaReference.error(L) }
        }
    }

    static func sparsityUpdater(_ c: LuaCall, _ i: Int32) throws -> Updater {
        guard lua_type(c.L, i) == LUA_TTABLE else {
            throw c.error("expected sparsity to be a mask updater (lp.sparse.updater{…}, or a table with a step method), got \(c.typeName(i))")
        }
        let u = Updater(LuaReference(c.L, i))
        for name in ["start", "step", "finish"] {
            lua_pushstring(c.L, name)
            let kind = lp_pgettable(c.L, i)
            defer { c.pop() }
            if kind == LUA_TFUNCTION { u.methods[name] = LuaReference(c.L, lua_absindex(c.L, -1)) }
            else if kind != LUA_TNIL { throw c.error("sparsity: its \(name) is a \(c.typeName(-1)), expected a method") }
        }
        guard u.methods["step"] != nil else { throw c.error("sparsity: the updater has no step method") }
        return u
    }

    /// A value handed to a callback: counts arrive in Lua as integers, measures as floats.
    enum Field {
        case count(Int), measure(Double)
    }

    /// A Lua callback receiving one table; returning false stops training.
    static func callback(_ c: LuaCall, _ i: Int32, _ what: String) throws -> (([(String, Field)]) throws -> Bool) {
        guard lua_type(c.L, i) == LUA_TFUNCTION else { throw c.error("expected \(what) to be a function, got \(c.typeName(i))") }
        let f = LuaReference(c.L, lua_absindex(c.L, i))
        return { info in
            let L = f.L
            try f.call(1) {
                lua_createtable(L, 0, Int32(info.count))
                for (k, v) in info {
                    switch v {
                    case .count(let n): lua_pushinteger(L, lua_Integer(n))
                    case .measure(let x): lua_pushnumber(L, x)
                    }
                    lua_setfield(L, -2, k)
                }
            }
            defer { lp_pop(L, 1) }
            return !(lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1) == 0)
        }
    }

    static let functions: [LuaFunction] = [
        time, StructuredBindings.compact,
        LuaFunction("train") { c in
            // train{net, data, optimizer, batch_size = 60, epochs | iterations, shuffle = true,
            //       drop_last = false, prefetch = true, loss = fn(out, y), on_step = fn(info), on_epoch = fn(info),
            //       regularizer = fn(net), sparsity = updater}
            // → {iterations, epochs, samples, seconds, loss, stopped}
            try c.arity(1, 1)
            let o = try LuaOptions(c, 1, known: ["net", "data", "optimizer", "batch_size", "epochs", "iterations", "shuffle",
                                                  "drop_last", "prefetch", "loss", "on_step", "on_epoch", "regularizer", "sparsity"])
            guard let net = try o.get("net", { try ModuleBindings.check(c, $0, "net to be a module") }) else { throw c.error("expected option net") }
            guard let data = try o.get("data", { try DataBindings.dataset.check(c, $0) }) else { throw c.error("expected option data (a data set)") }
            guard let opt = try o.get("optimizer", { try OptimBindings.optimizer.check(c, $0) }) else { throw c.error("expected option optimizer") }
            let epochs = try o.int("epochs"), iterations = try o.int("iterations")
            guard epochs != nil || iterations != nil else { throw c.error("expected option epochs or iterations") }
            // The Lua values of net and optimizer, handed back to regularizers and updaters.
            let netRef = try o.get("net") { LuaReference(c.L, $0) }!, optRef = try o.get("optimizer") { LuaReference(c.L, $0) }!
            var loss = try o.get("loss") { try lossFunction(c, $0) }
            if let reg = try o.get("regularizer", { i -> LuaReference in
                guard lua_type(c.L, i) == LUA_TFUNCTION else { throw c.error("expected regularizer to be a function(net) returning a loss term, got \(c.typeName(i))") }
                return LuaReference(c.L, i)
            }) {
                let base = loss ?? { try $0.crossEntropy($1) }
                loss = { out, y in
                    let L = reg.L
                    try reg.call(1) { netRef.push() }
                    defer { lp_pop(L, 1) }
                    guard let p = lp_to_tensor(L, -1) else {
                        throw LuaError("train: the regularizer returned \(String(cString: lp_typename_at(L, -1))), expected a tensor")
                    }
                    let term = Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
                    guard term.count == 1 else { throw TensorError("train: the regularizer must give one number, got shape \(describeShape(term.shape))") }
                    return try base(out, y).add(term.reshape([]))
                }
            }
            let updater = try o.get("sparsity") { try sparsityUpdater(c, $0) }
            let onStep = try o.get("on_step") { try callback(c, $0, "on_step") }
            let onEpoch = try o.get("on_epoch") { try callback(c, $0, "on_epoch") }
            let stepHook: (Trainer.Step) throws -> Bool = { s in
                guard let onStep else { return true }
                return try onStep([("iteration", .count(s.iteration)), ("epoch", .count(s.epoch)), ("batch", .count(s.batch)),
                                ("samples", .count(s.samples)), ("loss", .measure(Double(s.loss))), ("lr", .measure(Double(s.lr)))])
            }
            var epochHook: ((Trainer.Epoch) throws -> Bool)?
            if let onEpoch {
                epochHook = { e in
                    try onEpoch([("epoch", .count(e.epoch)), ("iteration", .count(e.iteration)), ("samples", .count(e.samples)),
                                 ("mean_loss", .measure(e.meanLoss)), ("seconds", .measure(e.seconds))])
                }
            }
            let batchSize = try o.int("batch_size") ?? 60
            let shuffle = try o.bool("shuffle") ?? true, dropLast = try o.bool("drop_last") ?? false
            let prefetch = try o.bool("prefetch") ?? true
            var beforeStep: (() throws -> Void)?, onStart: (() throws -> Void)?
            if let updater {
                let perEpoch = dropLast ? data.count / max(batchSize, 1) : (data.count + max(batchSize, 1) - 1) / max(batchSize, 1)
                let (total, overflow) = (epochs ?? Int.max / max(perEpoch, 1)).multipliedReportingOverflow(by: perEpoch)
                let steps = min(iterations ?? Int.max, overflow ? Int.max : total)
                onStart = {
                    try updater.call("start", netRef, optRef) { L in
                        lua_createtable(L, 0, 2)
                        lua_pushinteger(L, lua_Integer(steps)); lua_setfield(L, -2, "total")
                        lua_pushinteger(L, lua_Integer(perEpoch)); lua_setfield(L, -2, "per_epoch")
                    }
                }
                beforeStep = { try updater.call("step", netRef, optRef) { L in lua_pushinteger(L, lua_Integer(opt.iteration)) } }
            }
            let r = try Trainer.train(net, data: data, optimizer: opt, batchSize: batchSize, epochs: epochs, iterations: iterations,
                                      shuffle: shuffle, dropLast: dropLast, prefetch: prefetch, loss: loss, onStep: stepHook, onEpoch: epochHook,
                                      beforeStep: beforeStep, onStart: onStart)
            try updater?.call("finish", netRef, optRef) { _ in }
            lua_createtable(c.L, 0, 6)
            c.push(int: r.iterations); lua_setfield(c.L, -2, "iterations")
            c.push(int: r.epochs); lua_setfield(c.L, -2, "epochs")
            c.push(int: r.samples); lua_setfield(c.L, -2, "samples")
            c.push(r.seconds); lua_setfield(c.L, -2, "seconds")
            c.push(r.lastLoss); lua_setfield(c.L, -2, "loss")
            c.push(r.stoppedEarly); lua_setfield(c.L, -2, "stopped")
            return 1
        },
        LuaFunction("evaluate") { c in
            // evaluate(net, data [, {batch_size = 1000, loss = fn, transform = fn}]) → {loss, accuracy, count, per_class}
            try c.arity(2, 3)
            let net = try ModuleBindings.check(c, 1)
            let data = try DataBindings.dataset.check(c, 2)
            let o = try LuaOptions(c, 3, known: ["batch_size", "loss", "transform"])
            let r = try Trainer.evaluate(net, data: data, batchSize: try o.int("batch_size") ?? 1000,
                                         loss: try o.get("loss") { try lossFunction(c, $0) },
                                         transform: try o.get("transform") { try DataBindings.transformFunction(c, $0, "transform") })
            lua_createtable(c.L, 0, 4)
            c.push(r.loss); lua_setfield(c.L, -2, "loss")
            c.push(r.accuracy); lua_setfield(c.L, -2, "accuracy")
            c.push(int: r.count); lua_setfield(c.L, -2, "count")
            lua_createtable(c.L, Int32(r.perClass.count), 0)
            for (k, a) in r.perClass.enumerated() { c.push(a); lua_rawseti(c.L, -2, lua_Integer(k + 1)) }
            lua_setfield(c.L, -2, "per_class")
            return 1
        },
        LuaFunction("predict") { c in
            // predict(net, x [, {batch_size = 1000}]) → the outputs for x [N, …], in eval mode, no grad
            try c.arity(2, 3)
            let net = try ModuleBindings.check(c, 1)
            let x = try c.tensor(2, "an input tensor [N, …]")
            let o = try LuaOptions(c, 3, known: ["batch_size"])
            return c.push(try Trainer.predict(net, x, batchSize: try o.int("batch_size") ?? 1000))
        },
    ]

    /// `lp._time(net, {input, batch, mode, repeats, warmup})` → seconds of each timed pass;
    /// `lp.benchmark` (prelude.lua) is built on it.
    static let time = LuaFunction("_time") { c in
        try c.arity(2, 2)
        let net = try ModuleBindings.check(c, 1)
        let o = try LuaOptions(c, 2, known: ["input", "batch", "mode", "repeats", "warmup"])
        guard let input = try o.get("input", { try c.intList($0, "input") }) ?? net.inputShape else {
            throw c.error("the network does not know its input shape: give input = {C, H, W} (or {features})")
        }
        let name = try o.string("mode") ?? "inference"
        guard let mode = Benchmark.Mode(rawValue: name) else { throw c.error("unknown mode '\(name)' (known: inference, train)") }
        let seconds = try Benchmark.time(net, input: input, batch: try o.int("batch") ?? 1, mode: mode,
                                         repeats: try o.int("repeats") ?? 20, warmup: try o.int("warmup") ?? 3)
        lua_createtable(c.L, Int32(seconds.count), 0)
        for (k, s) in seconds.enumerated() { c.push(s); lua_rawseti(c.L, -2, lua_Integer(k + 1)) }
        return 1
    }

    static let modelOptions = ["data", "classes", "channels", "size", "width", "batch_norm", "init", "bias_init", "residual_scale"]

    /// A zoo model built from the options at `i`.
    static func buildModel(_ c: LuaCall, _ name: String, _ i: Int32) throws -> Int32 {
        let o = try LuaOptions(c, i, known: modelOptions)
        let net = try Zoo.build(name, try zooOptions(o, c))
        try ModuleBindings.applyBiasInit(o, c, net)
        return ModuleBindings.module.push(c, net)
    }

    static func zooOptions(_ o: LuaOptions, _ c: LuaCall) throws -> Zoo.Options {
        var z = Zoo.Options()
        // A data set of images [C, S, S] gives the input channels, size and classes.
        if let ds = try o.get("data", { try DataBindings.dataset.check(c, $0) }) {
            let s = ds.sampleShape
            guard s.count == 3, s[1] == s[2] else {
                throw c.error("data: expected a data set of square images [C,S,S], got samples \(describeShape(s))")
            }
            (z.channels, z.size) = (s[0], s[1])
            if ds.classes > 0 { z.classes = ds.classes }
        }
        if let v = try o.int("classes") { z.classes = v }
        if let v = try o.int("channels") { z.channels = v }
        if let v = try o.int("size") { z.size = v }
        if let v = try o.number("width") { z.width = v }
        if let v = try o.bool("batch_norm") { z.batchNorm = v }
        if let v = try o.string("init") { z.initializer = try Initializer.named(v, op: c.name) }
        if let v = try o.float("residual_scale") { z.residualScale = v }
        guard z.classes > 0, z.channels > 0, z.size > 0, z.width > 0 else {
            throw c.error("classes, channels, size and width must be positive")
        }
        return z
    }

    /// `lp.models.<name>{data = ds, classes = 10, channels = 1, size = 28, width = 1,
    /// batch_norm = true, init = <model default>, residual_scale = 1}`, and
    /// `lp.models.build(name, {…})`.
    static let models: [LuaFunction] = Zoo.names.map { name in
        LuaFunction(name) { c in
            try c.arity(0, 1)
            return try buildModel(c, name, 1)
        }
    } + [
        LuaFunction("build") { c in
            try c.arity(1, 2)
            return try buildModel(c, try c.string(1, "model name"), 2)
        },
        LuaFunction("load") { c in
            // load(path) → the checkpoint's network, rebuilt from its architecture, and its meta
            try c.arity(1, 1)
            let (net, meta) = try Checkpoint.network(try c.string(1, "path"))
            ModuleBindings.pushModule(c, net)
            IOBindings.pushStrings(c, meta)
            return 2
        },
    ]
}

import CLua
import LuaShim
import LopperCore
import LopperNN

/// A schedule as a Lua object.
final class ScheduleBox {
    let schedule: Schedule
    init(_ s: Schedule) { schedule = s }
}

/// A schedule written in Lua: a function of the step returning a factor of the base rate.
final class LuaSchedule: Schedule {
    let function: LuaReference
    init(_ L: OpaquePointer, _ i: Int32) { function = LuaReference(L, i) }

    func factor(at step: Int) throws -> Float {
        let L = function.L
        try function.call(1) { lua_pushinteger(L, lua_Integer(step)) }
        defer { lp_pop(L, 1) }
        guard lua_type(L, -1) == LUA_TNUMBER else {
            throw LuaError("schedule: the Lua function returned \(String(cString: lp_typename_at(L, -1))) at step \(step), expected a number")
        }
        return Float(lp_tonumber(L, -1))
    }

    var summary: String { "Lua function" }
}

/// `lp.optim` (SGD, Adam, AdamW) and `lp.schedule` (constant, step, multistep, cosine,
/// warmup, or any Lua function of the step).
enum OptimBindings {
    static let schedule: LuaClass<ScheduleBox> = LuaClass("Schedule", methods: [
        LuaFunction("at") { c in
            // at(step) → the factor of the base learning rate at that step.
            try c.arity(2, 2)
            return c.push(try schedule.check(c, 1).schedule.factor(at: try c.int(2, "step")))
        },
    ], metamethods: [
        ("__tostring", LuaFunction("tostring") { c in c.push("Schedule " + (try schedule.check(c, 1).schedule.summary)) }),
        ("__call", LuaFunction("schedule") { c in c.push(try schedule.check(c, 1).schedule.factor(at: try c.int(2, "step"))) }),
    ])

    /// A schedule argument: a Schedule object or a Lua function.
    static func checkSchedule(_ c: LuaCall, _ i: Int32) throws -> Schedule {
        if let s = schedule.optional(c, i) { return s.schedule }
        if lua_type(c.L, i) == LUA_TFUNCTION { return LuaSchedule(c.L, lua_absindex(c.L, i)) }
        throw c.error("expected a schedule (lp.schedule.…) or a function of the step, got \(c.typeName(i))")
    }

    static let schedules: [LuaFunction] = [
        LuaFunction("constant") { c in try c.arity(0, 0); return schedule.push(c, ScheduleBox(BuiltinSchedule.constant())) },
        LuaFunction("step") { c in
            // step{every = steps, gamma = 0.1}
            try c.arity(1, 1)
            let o = try LuaOptions(c, 1, known: ["every", "gamma"])
            guard let every = try o.int("every") else { throw c.error("expected option every (steps between decays)") }
            return schedule.push(c, ScheduleBox(try BuiltinSchedule.step(every: every, gamma: try o.float("gamma") ?? 0.1)))
        },
        LuaFunction("multistep") { c in
            // multistep{milestones = {steps…}, gamma = 0.1}
            try c.arity(1, 1)
            let o = try LuaOptions(c, 1, known: ["milestones", "gamma"])
            guard let ms = try o.get("milestones", { try c.intList($0, "milestones") }) else { throw c.error("expected option milestones (a list of steps)") }
            return schedule.push(c, ScheduleBox(BuiltinSchedule.multistep(ms, gamma: try o.float("gamma") ?? 0.1)))
        },
        LuaFunction("cosine") { c in
            // cosine{total = steps, floor = 0}
            try c.arity(1, 1)
            let o = try LuaOptions(c, 1, known: ["total", "floor"])
            guard let total = try o.int("total") else { throw c.error("expected option total (steps of the schedule)") }
            return schedule.push(c, ScheduleBox(try BuiltinSchedule.cosine(total: total, floor: try o.float("floor") ?? 0)))
        },
        LuaFunction("warmup") { c in
            // warmup{steps = n, after = schedule}: linear warm-up, then `after` (or constant).
            try c.arity(1, 1)
            let o = try LuaOptions(c, 1, known: ["steps", "after"])
            guard let steps = try o.int("steps") else { throw c.error("expected option steps (length of the warm-up)") }
            let after = try o.get("after") { try checkSchedule(c, $0) }
            return schedule.push(c, ScheduleBox(try BuiltinSchedule.warmup(steps: steps, then: after)))
        },
    ]

    /// Parameters to optimise: a module (named parameters), a list of tensors, or a list
    /// of {name = …, tensor = …}.
    static func namedParameters(_ c: LuaCall, _ i: Int32) throws -> [(String, Tensor)] {
        if let m = ModuleBindings.optionalModule(c.L, i) { return m.namedParameters() }
        guard lua_type(c.L, i) == LUA_TTABLE else { throw c.error("expected a module or a list of parameters, got \(c.typeName(i))") }
        var out: [(String, Tensor)] = []
        for k in stride(from: 1, through: Int(lua_rawlen(c.L, i)), by: 1) {
            lua_rawgeti(c.L, i, lua_Integer(k))
            defer { c.pop() }
            if let t = c.optTensor(-1) { out.append((String(k), t)); continue }
            guard lua_type(c.L, -1) == LUA_TTABLE else {
                throw c.error("expected parameters[\(k)] to be a tensor or a {name = …, tensor = …} table, got \(c.typeName(-1))")
            }
            let name = c.field(-1, "name"), tensor = c.field(-2, "tensor")
            defer { c.pop(2) }
            out.append((try c.string(name, "parameters[\(k)].name"), try c.tensor(tensor, "parameters[\(k)].tensor to be a tensor")))
        }
        for (name, t) in out where !t.requiresGrad || t.gradFn != nil {
            throw c.error("parameter \(name) is not a leaf that requires grad (call :requires_grad() on it)")
        }
        return out
    }

    static let optimizer: LuaClass<Optimizer> = LuaClass("Optimizer", methods: [
        LuaFunction("step") { c in try c.arity(1, 1); try optimizer.check(c, 1).step(); return 0 },
        LuaFunction("zero_grad") { c in try c.arity(1, 1); try optimizer.check(c, 1).zeroGrad(); return 0 },
        LuaFunction("lr") { c in
            // The learning rate the next step will use.
            try c.arity(1, 1)
            return c.push(try optimizer.check(c, 1).currentLR())
        },
        LuaFunction("set_lr") { c in
            // set_lr(v): sets the base rate (a schedule scales from it).
            try c.arity(2, 2)
            let v = try c.number(2, "learning rate")
            guard v >= 0, v.isFinite else { throw c.error("learning rate must be a non-negative number, got \(v)") }
            try optimizer.check(c, 1).baseLR = Float(v)
            return 0
        },
        LuaFunction("iteration") { c in try c.arity(1, 1); return c.push(int: try optimizer.check(c, 1).iteration) },
        LuaFunction("set_iteration") { c in
            // set_iteration(k): moves the schedule's clock (learning-rate rewinding).
            try c.arity(2, 2)
            let k = try c.int(2, "iteration")
            guard k >= 0 else { throw c.error("iteration must be non-negative, got \(k)") }
            try optimizer.check(c, 1).iteration = k
            return 0
        },
        LuaFunction("set_schedule") { c in
            try c.arity(2, 2)
            try optimizer.check(c, 1).schedule = c.isNil(2) ? nil : try checkSchedule(c, 2)
            return 0
        },
        LuaFunction("state") { c in
            // state(param or name) → { momentum_buffer = t, … }: the live state tensors.
            try c.arity(2, 2)
            let o = try optimizer.check(c, 1), i = try paramIndex(c, o, 2)
            lua_createtable(c.L, 0, Int32(o.state[i].count))
            for (k, t) in o.state[i] { c.push(t); lua_setfield(c.L, -2, k) }
            return 1
        },
        LuaFunction("reset_state") { c in
            // reset_state([param or name [, keep_mask]]): zeroes state (where the mask is 0).
            try c.arity(1, 3)
            let o = try optimizer.check(c, 1)
            if c.isNil(2) { for i in o.params.indices { try o.resetState(i) }; return 0 }
            let i = try paramIndex(c, o, 2)
            let mask = c.isNil(3) ? nil : try c.tensor(3, "a mask tensor")
            if let mask, mask.shape != o.params[i].shape {
                throw c.error("mask of shape \(describeShape(mask.shape)) does not match \(o.names[i]) \(describeShape(o.params[i].shape))")
            }
            try o.resetState(i, keep: mask)
            return 0
        },
        LuaFunction("names") { c in
            try c.arity(1, 1)
            return c.push(strings: try optimizer.check(c, 1).names)
        },
        LuaFunction("settings") { c in
            try c.arity(1, 1)
            let o = try optimizer.check(c, 1)
            lua_createtable(c.L, 0, Int32(o.settings.count + 1))
            for (k, v) in o.settings { c.push(v); lua_setfield(c.L, -2, k) }
            c.push(o.kind); lua_setfield(c.L, -2, "kind")
            return 1
        },
    ], metamethods: [
        ("__tostring", LuaFunction("tostring") { c in
            let o = try optimizer.check(c, 1)
            let s = o.settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            return c.push("\(o.kind)(\(s)) over \(o.params.count) tensors, iteration \(o.iteration)")
        }),
    ])

    static func paramIndex(_ c: LuaCall, _ o: Optimizer, _ i: Int32) throws -> Int {
        if let t = c.optTensor(i) {
            guard let k = o.index(of: t) else { throw c.error("the tensor is not one of this optimizer's parameters") }
            return k
        }
        let name = try c.string(i, "a parameter or its name")
        guard let k = o.names.firstIndex(of: name) else {
            throw c.error("no parameter named '\(name)' (known: \(o.names.joined(separator: ", ")))")
        }
        return k
    }

    static func make(_ name: String, known: [String], _ build: @escaping (LuaCall, [(String, Tensor)], LuaOptions) throws -> Optimizer) -> LuaFunction {
        LuaFunction(name) { c in
            try c.arity(1, 2)
            let params = try namedParameters(c, 1)
            let o = try LuaOptions(c, 2, known: known + ["schedule"])
            let opt = try build(c, params, o)
            opt.schedule = try o.get("schedule") { try checkSchedule(c, $0) }
            return optimizer.push(c, opt)
        }
    }

    static let optimizers: [LuaFunction] = [
        make("SGD", known: ["lr", "momentum", "dampening", "weight_decay", "nesterov"]) { c, p, o in
            // SGD(net or params, {lr = 0.1, momentum = 0, dampening = 0, weight_decay = 0, nesterov = false, schedule})
            guard let lr = try o.float("lr") else { throw c.error("expected option lr (learning rate)") }
            return try SGD(p, lr: lr, momentum: try o.float("momentum") ?? 0, dampening: try o.float("dampening") ?? 0,
                           weightDecay: try o.float("weight_decay") ?? 0, nesterov: try o.bool("nesterov") ?? false)
        },
        make("Adam", known: ["lr", "beta1", "beta2", "eps", "weight_decay"]) { c, p, o in
            try adam(p, o, decoupled: false)
        },
        make("AdamW", known: ["lr", "beta1", "beta2", "eps", "weight_decay"]) { c, p, o in
            try adam(p, o, decoupled: true)
        },
    ]

    static func adam(_ p: [(String, Tensor)], _ o: LuaOptions, decoupled: Bool) throws -> Optimizer {
        // Adam/AdamW(net or params, {lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8,
        // weight_decay = 0 (AdamW: 0.01), schedule})
        try Adam(p, lr: try o.float("lr") ?? 1e-3, betas: (try o.float("beta1") ?? 0.9, try o.float("beta2") ?? 0.999),
                 eps: try o.float("eps") ?? 1e-8, weightDecay: try o.float("weight_decay") ?? (decoupled ? 0.01 : 0),
                 decoupled: decoupled)
    }

    static func install(_ L: OpaquePointer) {
        schedule.install(L)
        optimizer.install(L)
    }
}

import CLua
import LuaShim
import LopperCore
import LopperNN

/// `lp.nn`: layers, containers and Lua-written modules, and the methods every module has.
///
///     local net = lp.nn.Sequential{ {"fc1", lp.nn.Linear(784, 300)}, lp.nn.ReLU(), … }
///     local y = net(x)                      -- or net:forward(x)
///     for _, p in ipairs(net:parameters()) do print(p.name, p.tensor:size()) end
enum ModuleBindings {
    static let methods: [LuaFunction] = [
        LuaFunction("forward") { c in
            try c.arity(2, 2)
            return c.push(try check(c, 1).forward(try c.tensor(2, "an input tensor")))
        },
        LuaFunction("parameters") { c in
            // → { {name = "fc1.weight", tensor = …}, … } in registration order.
            try c.arity(1, 1)
            return pushNamed(c, try check(c, 1).namedParameters())
        },
        LuaFunction("buffers") { c in try c.arity(1, 1); return pushNamed(c, try check(c, 1).namedBuffers()) },
        LuaFunction("state_dict") { c in
            // → { ["fc1.weight"] = tensor, … }: parameters and buffers, the live tensors.
            try c.arity(1, 1)
            let state = try check(c, 1).stateDict()
            lua_createtable(c.L, 0, Int32(state.count))
            for (name, t) in state { c.push(t); lua_setfield(c.L, -2, name) }
            return 1
        },
        LuaFunction("load_state_dict") { c in
            // load_state_dict(map [, {strict = true}]): copies values in place.
            try c.arity(2, 3)
            let m = try check(c, 1)
            guard lua_type(c.L, 2) == LUA_TTABLE else { throw c.error("expected a table of name → tensor, got \(c.typeName(2))") }
            let opts = try LuaOptions(c, 3, known: ["strict"])
            var state: [String: Tensor] = [:]
            lua_pushnil(c.L)
            while lua_next(c.L, 2) != 0 {
                defer { c.pop() }
                guard lua_type(c.L, -2) == LUA_TSTRING else { throw c.error("expected string keys in the state table, got \(c.typeName(-2))") }
                let name = String(cString: lp_tostring(c.L, -2))
                state[name] = try c.tensor(-1, "\(name) to be a tensor")
            }
            try m.loadStateDict(state, strict: try opts.bool("strict") ?? true)
            return 0
        },
        LuaFunction("train") { c in
            // train([on = true]) → the module, so that `net:train()` chains.
            try c.arity(1, 2)
            try check(c, 1).train(try c.bool(2, "mode", default: true))
            lua_settop(c.L, 1)
            return 1
        },
        LuaFunction("eval") { c in
            try c.arity(1, 1)
            try check(c, 1).train(false)
            return 1
        },
        LuaFunction("is_training") { c in try c.arity(1, 1); return c.push(try check(c, 1).training) },
        LuaFunction("children") { c in
            try c.arity(1, 1)
            return pushModules(c, try check(c, 1).children)
        },
        LuaFunction("modules") { c in
            // Every module of the tree with its dotted path ("" for the root), parents first.
            try c.arity(1, 1)
            return pushModules(c, try check(c, 1).namedModules())
        },
        LuaFunction("get") { c in
            // get("blocks.0.conv1") → that sub-module, or a parameter/buffer by full name.
            try c.arity(2, 2)
            let m = try check(c, 1), path = try c.string(2, "path")
            if let sub = m.namedModules().first(where: { $0.0 == path }) { return pushModule(c, sub.1) }
            if let t = m.stateDict().first(where: { $0.0 == path }) { return c.push(t.1) }
            throw c.error("no module, parameter or buffer named '\(path)'")
        },
        LuaFunction("parameter_count") { c in try c.arity(1, 1); return c.push(int: try check(c, 1).parameterCount) },
        LuaFunction("zero_grad") { c in
            try c.arity(1, 1)
            for p in try check(c, 1).parameters() { p.grad = nil }
            return 0
        },
        LuaFunction("kind") { c in try c.arity(1, 1); return c.push(try check(c, 1).kind) },
    ]

    /// Keys that are not methods: a child by name (`net.fc1`) or 1-based position
    /// (`seq[1]`), or a parameter or buffer of this module (`net.fc1.weight`).
    static let indexer = LuaFunction("index") { c in
        let m = try check(c, 1)
        if lua_type(c.L, 2) == LUA_TSTRING {
            let key = String(cString: lp_tostring(c.L, 2))
            if let child = m.children.first(where: { $0.0 == key }) { return pushModule(c, child.1) }
            if let t = (m.localParameters + m.localBuffers).first(where: { $0.0 == key }) { return c.push(t.1) }
            if key == "training" { return c.push(m.training) }
            return c.pushNil()
        }
        if lua_type(c.L, 2) == LUA_TNUMBER {
            let kids = m.children
            let i = try LuaCall.zeroBased(try c.int(2, "index"), size: kids.count, what: "index", of: "a module with \(kids.count) children", call: c)
            return pushModule(c, kids[i].1)
        }
        return c.pushNil()
    }

    static let module: LuaClass<Module> = LuaClass("Module", methods: methods + HookBindings.moduleMethods + SurgeryBindings.moduleMethods, metamethods: [
        ("__call", LuaFunction("forward") { c in
            // net(x): forward with the module's hooks (net:forward(x) skips them).
            try c.arity(2, 2)
            return c.push(try check(c, 1)(try c.tensor(2, "an input tensor")))
        }),
        ("__tostring", LuaFunction("tostring") { c in c.push(try check(c, 1).describe()) }),
        ("__len", LuaFunction("#") { c in c.push(int: try check(c, 1).children.count) }),
        ("__newindex", SurgeryBindings.assign),
    ], indexer: indexer)

    /// The module at `i`: a native module, or a Lua table with `forward` (wrapped).
    static func optionalModule(_ L: OpaquePointer, _ i: Int32) -> Module? {
        if let m = module.optional(L, i) { return m }
        return LuaModule.isModuleTable(L, i) ? LuaModule(L, lua_absindex(L, i)) : nil
    }

    static func check(_ c: LuaCall, _ i: Int32, _ what: String = "a module") throws -> Module {
        guard let m = optionalModule(c.L, i) else { throw c.error("expected \(what), got \(c.typeName(i))") }
        return m
    }

    /// Pushes a module: a Lua-written one as its own table.
    @discardableResult
    static func pushModule(_ c: LuaCall, _ m: Module) -> Int32 {
        if let lua = m as? LuaModule { lua.table.push(); return 1 }
        return module.push(c, m)
    }

    static func pushNamed(_ c: LuaCall, _ items: [(String, Tensor)]) -> Int32 {
        lua_createtable(c.L, Int32(items.count), 0)
        for (k, (name, t)) in items.enumerated() {
            lua_createtable(c.L, 0, 2)
            c.push(name); lua_setfield(c.L, -2, "name")
            c.push(t); lua_setfield(c.L, -2, "tensor")
            lua_rawseti(c.L, -2, lua_Integer(k + 1))
        }
        return 1
    }

    static func pushModules(_ c: LuaCall, _ items: [(String, Module)]) -> Int32 {
        lua_createtable(c.L, Int32(items.count), 0)
        for (k, (name, m)) in items.enumerated() {
            lua_createtable(c.L, 0, 2)
            c.push(name); lua_setfield(c.L, -2, "name")
            pushModule(c, m); lua_setfield(c.L, -2, "module")
            lua_rawseti(c.L, -2, lua_Integer(k + 1))
        }
        return 1
    }

    static func initializer(_ o: LuaOptions, _ c: LuaCall) throws -> Initializer {
        try o.string("init").map { try Initializer.named($0, op: c.name) } ?? .pytorch
    }

    /// `bias_init = "zeros"` or `{"normal", std = 0.2}` (lp.nn.init's names and options):
    /// refills the bias of every Linear and Conv2d in `m`; absent, biases keep PyTorch's default.
    static func applyBiasInit(_ o: LuaOptions, _ c: LuaCall, _ m: Module) throws {
        guard let (name, spec) = try o.get("bias_init", { i -> (String, InitSpec) in
            if lua_type(c.L, i) == LUA_TSTRING { return (try c.string(i, "bias_init"), InitSpec()) }
            guard lua_type(c.L, i) == LUA_TTABLE else { throw c.error("expected bias_init as a name or {name, std = …}, got \(c.typeName(i))") }
            let t = lua_absindex(c.L, i)
            lua_rawgeti(c.L, t, 1)
            let name = try c.string(-1, "bias_init[1] (the initialiser's name)")
            c.pop()
            lua_pushnil(c.L)
            while lua_next(c.L, t) != 0 {
                c.pop()
                let key = lua_type(c.L, -1) == LUA_TSTRING ? String(cString: lp_tostring(c.L, -1)) : nil
                let positional = lua_type(c.L, -1) == LUA_TNUMBER && lp_tonumber(c.L, -1) == 1
                guard positional || ["mean", "std", "a", "b", "value"].contains(key ?? "") else {
                    let shown = key.map { "'\($0)'" } ?? c.typeName(-1)
                    c.pop()
                    throw c.error("bias_init: unknown option \(shown) (known: mean, std, a, b, value)")
                }
            }
            var spec = InitSpec()
            for key in ["mean", "std", "a", "b", "value"] {
                lua_pushstring(c.L, key)
                lua_rawget(c.L, t)
                defer { c.pop() }
                guard !c.isNil(-1) else { continue }
                let v = try c.number(-1, "bias_init.\(key)")
                switch key {
                case "mean": spec.mean = v
                case "std": spec.std = v
                case "a": spec.a = v
                case "b": spec.b = v
                default: spec.value = v
                }
            }
            return (name, spec)
        }) else { return }
        guard name != "pytorch" else { return }
        guard InitSpec.names.contains(name), name != "orthogonal" else {
            throw c.error("bias_init: unknown initialiser '\(name)' for biases (known: pytorch, normal, uniform, constant, zeros, ones)")
        }
        try Autograd.noGrad {
            for (_, layer) in m.namedModules() {
                guard let bias = (layer as? Linear)?.bias ?? (layer as? Conv2d)?.bias else { continue }
                try spec.fill(bias, name, op: c.name)
            }
        }
    }

    /// Constructors in `lp.nn`.
    static let constructors: [LuaFunction] = [
        LuaFunction("Linear") { c in
            // Linear(in, out [, {bias = true, init = "pytorch"}])
            try c.arity(2, 3)
            let o = try LuaOptions(c, 3, known: ["bias", "init", "bias_init"])
            let m = try Linear(try c.int(1, "in_features"), try c.int(2, "out_features"),
                               bias: try o.bool("bias") ?? true, init: try initializer(o, c))
            try applyBiasInit(o, c, m)
            return module.push(c, m)
        },
        LuaFunction("Conv2d") { c in
            // Conv2d(in, out, kernel [, {stride = 1, padding = 0, bias = true, init = "pytorch"}])
            try c.arity(3, 4)
            let o = try LuaOptions(c, 4, known: ["stride", "padding", "bias", "init", "bias_init"])
            let m = try Conv2d(try c.int(1, "in_channels"), try c.int(2, "out_channels"),
                               kernel: try c.pair(3, "kernel"), stride: try o.pair("stride") ?? (1, 1),
                               padding: try o.pair("padding") ?? (0, 0), bias: try o.bool("bias") ?? true,
                               init: try initializer(o, c))
            try applyBiasInit(o, c, m)
            return module.push(c, m)
        },
        batchNorm("BatchNorm1d", spatial: false),
        batchNorm("BatchNorm2d", spatial: true),
        LuaFunction("ReLU") { c in try c.arity(0, 0); return module.push(c, try Elementwise.relu()) },
        LuaFunction("Tanh") { c in try c.arity(0, 0); return module.push(c, try Elementwise.tanh()) },
        LuaFunction("Sigmoid") { c in try c.arity(0, 0); return module.push(c, try Elementwise.sigmoid()) },
        LuaFunction("Identity") { c in try c.arity(0, 0); return module.push(c, Elementwise.identity()) },
        LuaFunction("Flatten") { c in try c.arity(0, 0); return module.push(c, Elementwise.flatten()) },
        LuaFunction("LeakyReLU") { c in
            try c.arity(0, 1)
            return module.push(c, Elementwise.leakyReLU(Float(try c.optNumber(1, "negative_slope") ?? 0.01)))
        },
        pool("MaxPool2d", Pool2d.max),
        pool("AvgPool2d", Pool2d.average),
        LuaFunction("AdaptiveAvgPool2d") { c in
            // AdaptiveAvgPool2d(size or {h, w})
            try c.arity(1, 1)
            let (h, w) = try c.pair(1, "output size")
            guard h > 0, w > 0 else { throw c.error("output size must be positive, got \(h)x\(w)") }
            return module.push(c, Pool2d.adaptiveAverage(h, w))
        },
        LuaFunction("Dropout") { c in
            try c.arity(0, 1)
            return module.push(c, try Dropout(Float(try c.optNumber(1, "p") ?? 0.5)))
        },
        LuaFunction("Sequential") { c in
            // Sequential{ module, {"name", module}, … }: unnamed children are "0", "1", …
            try c.arity(1, 1)
            guard lua_type(c.L, 1) == LUA_TTABLE else { throw c.error("expected a list of modules, got \(c.typeName(1))") }
            var layers: [(String?, Module)] = []
            for k in stride(from: 1, through: Int(lua_rawlen(c.L, 1)), by: 1) {
                lua_rawgeti(c.L, 1, lua_Integer(k))
                defer { c.pop() }
                if let m = optionalModule(c.L, -1) { layers.append((nil, m)); continue }
                guard lua_type(c.L, -1) == LUA_TTABLE, lua_rawlen(c.L, -1) == 2 else {
                    throw c.error("entry \(k): expected a module or {name, module}, got \(c.typeName(-1))")
                }
                lua_rawgeti(c.L, -1, 1)
                lua_rawgeti(c.L, -2, 2)
                defer { c.pop(2) }
                let name = try c.string(-2, "entry \(k) name")
                guard let m = optionalModule(c.L, -1) else { throw c.error("entry \(k): expected a module after the name, got \(c.typeName(-1))") }
                layers.append((name, m))
            }
            let names = layers.enumerated().map { $0.element.0 ?? String($0.offset) }
            if let dup = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
                throw c.error("two children are named '\(dup)'")
            }
            return module.push(c, Sequential(layers))
        },
        LuaFunction("Residual") { c in
            // Residual(body [, {shortcut = module, scale = 1, relu = false}])
            try c.arity(1, 2)
            let body = try check(c, 1, "a body module")
            let o = try LuaOptions(c, 2, known: ["shortcut", "scale", "relu"])
            let shortcut = try o.get("shortcut") { try check(c, $0, "shortcut to be a module") }
            return module.push(c, Residual(body: body, shortcut: shortcut, scale: try o.float("scale") ?? 1, relu: try o.bool("relu") ?? false))
        },
        LuaFunction("BasicBlock") { c in
            // BasicBlock(in, out [, {stride = 1, scale = 1, init = "kaiming_normal"}])
            try c.arity(2, 3)
            let o = try LuaOptions(c, 3, known: ["stride", "scale", "init"])
            let i = try o.string("init").map { try Initializer.named($0, op: c.name) } ?? .kaimingNormal
            return module.push(c, try BasicBlock(try c.int(1, "in_channels"), try c.int(2, "out_channels"),
                                                 stride: try o.int("stride") ?? 1, scale: try o.float("scale") ?? 1, init: i))
        },
        LuaFunction("init") { c in
            // init(tensor, "kaiming_normal" | … | "normal" | "uniform" | "constant" | "zeros" | "ones" | "orthogonal"
            //      [, {mean, std, a, b, value, gain}])
            try c.arity(2, 3)
            let t = try c.tensor(1)
            let name = try c.string(2, "initialiser")
            guard Initializer(rawValue: name) != nil || name.hasPrefix("glorot_") || InitSpec.names.contains(name) else {
                throw c.error("unknown initialiser '\(name)' (known: \(Initializer.names), glorot_normal, glorot_uniform, \(InitSpec.names.joined(separator: ", ")))")
            }
            let o = try LuaOptions(c, 3, known: ["mean", "std", "a", "b", "value", "gain"])
            var spec = InitSpec()
            if let v = try o.number("mean") { spec.mean = v }
            if let v = try o.number("std") { spec.std = v }
            if let v = try o.number("a") { spec.a = v }
            if let v = try o.number("b") { spec.b = v }
            spec.value = try o.number("value")
            spec.gain = try o.number("gain")
            try Autograd.noGrad { try spec.fill(t, name, op: c.name) }
            lua_settop(c.L, 1)
            return 1
        },
    ]

    static func batchNorm(_ name: String, spatial: Bool) -> LuaFunction {
        LuaFunction(name) { c in
            // BatchNormXd(channels [, {eps = 1e-5, momentum = 0.1}])
            try c.arity(1, 2)
            let o = try LuaOptions(c, 2, known: ["eps", "momentum"])
            return module.push(c, try BatchNorm(try c.int(1, "channels"), eps: try o.float("eps") ?? 1e-5,
                                                momentum: try o.float("momentum") ?? 0.1, spatial: spatial))
        }
    }

    static func pool(_ name: String, _ make: @escaping (Int, Int?, Int) -> Pool2d) -> LuaFunction {
        LuaFunction(name) { c in
            // Pool(kernel [, {stride = kernel, padding = 0}])
            try c.arity(1, 2)
            let o = try LuaOptions(c, 2, known: ["stride", "padding"])
            let k = try c.int(1, "kernel")
            let stride = try o.int("stride"), padding = try o.int("padding") ?? 0
            guard k > 0, (stride ?? 1) > 0, padding >= 0 else {
                throw c.error("kernel and stride must be positive and padding non-negative, got kernel \(k), stride \(stride ?? k), padding \(padding)")
            }
            return module.push(c, make(k, stride, padding))
        }
    }

    /// `lp.nn.module(table)`: gives a Lua table with `forward` the methods of modules
    /// (parameters, train, eval, call syntax …) unless it already has a metatable.
    static let luaModule = LuaFunction("module") { c in
        try c.arity(1, 1)
        guard LuaModule.isModuleTable(c.L, 1) else { throw c.error("expected a table with a forward function, got \(c.typeName(1))") }
        try SurgeryBindings.markBuffers(c, 1)
        if lua_getmetatable(c.L, 1) == 0 {
            lua_rawgetp(c.L, lp_registryindex(), luaModuleMetatableKey)
            lua_setmetatable(c.L, 1)
        } else {
            c.pop()
        }
        lua_settop(c.L, 1)
        return 1
    }

    static let luaModuleMetatableKey = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

    static func install(_ L: OpaquePointer) {
        module.install(L)
        HookBindings.install(L)
        // The metatable of Lua-written modules: the same methods, and call syntax.
        lua_createtable(L, 0, 3)
        module.pushMethods(L)
        lua_setfield(L, -2, "__index")
        module.metamethods[0].1.push(L)
        lua_setfield(L, -2, "__call")
        lua_pushstring(L, "lopper.LuaModule")
        lua_setfield(L, -2, "__name")
        lua_rawsetp(L, lp_registryindex(), luaModuleMetatableKey)
    }
}

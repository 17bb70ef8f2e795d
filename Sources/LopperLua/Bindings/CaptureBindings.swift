import CLua
import LuaShim
import LopperCore
import LopperNN

/// `lp.nn.capture(net, names, fn [, options])`: per-module activations, gradients and
/// running reductions over whatever `fn` runs.
enum CaptureBindings {
    static let capture = LuaFunction("capture") { c in
        // capture(net, {"conv1", …} or "conv1", fn [, {gradients = true, keep = false}]) → {name = statistics}
        try c.arity(3, 4)
        let net = try ModuleBindings.check(c, 1)
        let names: [String] = lua_type(c.L, 2) == LUA_TSTRING ? [try c.string(2, "name")] : try PruneBindings.stringList(c, 2, "module names")
        guard !names.isEmpty else { throw c.error("expected at least one module name") }
        guard lua_type(c.L, 3) == LUA_TFUNCTION else { throw c.error("expected fn (a function that runs the network) as argument 3, got \(c.typeName(3))") }
        let o = try LuaOptions(c, 4, known: ["gradients", "keep"])
        let modules = try names.map { name -> (String, Module) in
            guard let m = net.namedModules().first(where: { $0.0 == name })?.1 else {
                let paths = net.namedModules().map { $0.0 }.filter { !$0.isEmpty }
                throw c.error("no module named '\(name)' (modules: \(paths.prefix(12).joined(separator: ", "))\(paths.count > 12 ? ", …" : ""))")
            }
            return (name, m)
        }
        let f = LuaReference(c.L, 3)
        let stats = try Capture.run(modules, gradients: try o.bool("gradients") ?? true, keep: try o.bool("keep") ?? false) {
            try f.call(0, results: 0) {}
        }
        lua_createtable(c.L, 0, Int32(names.count))
        for (name, s) in zip(names, stats) {
            lua_createtable(c.L, 0, 12)
            c.push(int: s.samples); lua_setfield(c.L, -2, "samples")
            c.push(int: s.calls); lua_setfield(c.L, -2, "calls")
            let fields: [(String, [Double])] = [
                ("mean", s.mean), ("mean_sq", s.meanOfSquares), ("zeros", s.zeroFraction), ("nonpositive", s.nonPositiveFraction),
                ("input_norm", s.inputNorm),
            ] + (s.gradientSamples > 0 ? [("fisher", s.fisher), ("taylor", s.taylor)] : [])
            for (key, v) in fields where !v.isEmpty {
                c.push(try Tensor(shape: [v.count], values: v.map { Float($0) }))
                lua_setfield(c.L, -2, key)
            }
            if s.gradientSamples > 0 { c.push(int: s.gradientSamples); lua_setfield(c.L, -2, "gradient_samples") }
            for (key, t) in [("input", s.lastInput), ("activation", s.lastOutput), ("gradient", s.lastGradient)] {
                guard let t else { continue }
                c.push(t); lua_setfield(c.L, -2, key)
            }
            lua_setfield(c.L, -2, name)
        }
        return 1
    }
}

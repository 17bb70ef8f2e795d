import CLua
import LuaShim
import LopperCore

/// Autograd and losses from Lua: `x:requires_grad()`, `loss:backward()`, `p.grad`,
/// `lp.no_grad(fn)`, `lp.grad(out, {inputs})`, `t:detach()`, and the loss functions.
enum AutogradBindings {
    static let methods: [LuaFunction] = [
        LuaFunction("requires_grad") { c in
            // requires_grad([flag]) → self: gradients flow to this tensor (a leaf).
            try c.arity(1, 2)
            let t = try c.tensor(1)
            let flag = try c.bool(2, "flag", default: true)
            guard t.gradFn == nil || flag else {
                throw c.error("only leaf tensors can stop requiring grad; use t:detach()")
            }
            t.requiresGrad = flag
            lua_settop(c.L, 1)
            return 1
        },
        LuaFunction("backward") { c in
            // backward([grad_output] [, {create_graph = false, retain_graph = create_graph}])
            try c.arity(1, 3)
            let t = try c.tensor(1)
            let seed = c.optTensor(2)
            let o = try LuaOptions(c, seed == nil ? 2 : 3, known: ["create_graph", "retain_graph"])
            try t.backward(seed, createGraph: try o.bool("create_graph") ?? false, retainGraph: try o.bool("retain_graph"))
            return 0
        },
        LuaFunction("detach") { c in try c.arity(1, 1); return c.push(try c.tensor(1).detach()) },
        LuaFunction("is_leaf") { c in try c.arity(1, 1); return c.push(try c.tensor(1).gradFn == nil) },
        LuaFunction("grad_fn") { c in
            try c.arity(1, 1)
            guard let node = try c.tensor(1).gradFn else { return c.pushNil() }
            return c.push(node.name)
        },
        LuaFunction("log_softmax") { c in
            try c.arity(1, 2)
            let t = try c.tensor(1)
            return c.push(try t.logSoftmax(dim: try c.optDim(2, rank: t.rank) ?? -1))
        },
        LuaFunction("softmax") { c in
            try c.arity(1, 2)
            let t = try c.tensor(1)
            return c.push(try t.softmax(dim: try c.optDim(2, rank: t.rank) ?? -1))
        },
        LuaFunction("cross_entropy") { c in
            // cross_entropy(logits [N,C], targets [N] (classes 1..C) [, label_smoothing])
            try c.arity(2, 3)
            let eps = Float(try c.optNumber(3, "label_smoothing") ?? 0)
            return c.push(try c.tensor(1).crossEntropy(try c.tensor(2, "a tensor of target classes"), labelSmoothing: eps))
        },
        LuaFunction("nll_loss") { c in
            try c.arity(2, 2)
            return c.push(try c.tensor(1).nllLoss(try c.tensor(2, "a tensor of target classes")))
        },
        LuaFunction("mse_loss") { c in
            try c.arity(2, 2)
            return c.push(try c.tensor(1).mseLoss(try c.tensor(2, "a target tensor")))
        },
        LuaFunction("accuracy") { c in
            try c.arity(2, 2)
            return c.push(try c.tensor(1).accuracy(try c.tensor(2, "a tensor of target classes")))
        },
    ]

    static let functions: [LuaFunction] = [
        LuaFunction("set_grad_enabled") { c in
            // set_grad_enabled(flag) → the previous setting.
            try c.arity(1, 1)
            let previous = Autograd.isEnabled
            Autograd.isEnabled = try c.bool(1, "flag", default: true)
            return c.push(previous)
        },
        LuaFunction("is_grad_enabled") { c in try c.arity(0, 0); return c.push(Autograd.isEnabled) },
        LuaFunction("grad") { c in
            // grad(output, {inputs…} [, {create_graph = true, grad_output = t}]) → {grads…}
            try c.arity(2, 3)
            let out = try c.tensor(1)
            let inputs = try c.tensorList(2, "inputs")
            let o = try LuaOptions(c, 3, known: ["create_graph", "grad_output"])
            let grads = try out.gradients(wrt: inputs, seed: try o.tensor("grad_output"), createGraph: try o.bool("create_graph") ?? false)
            lua_createtable(c.L, Int32(grads.count), 0)
            for (i, g) in grads.enumerated() {
                c.push(g)
                lua_rawseti(c.L, -2, lua_Integer(i + 1))
            }
            return 1
        },
    ]
}

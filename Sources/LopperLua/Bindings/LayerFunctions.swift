import CLua
import LuaShim
import LopperCore

/// Functional forms of the layers (`lp.conv2d(x, w, b, {padding = 2})`, `x:max_pool2d(2)`),
/// for modules written in Lua and for scores that need a layer's raw computation.
enum LayerFunctions {
    static let all: [LuaFunction] = [
        LuaFunction("conv2d") { c in
            // conv2d(x, weight [, bias] [, {stride = 1, padding = 0}])
            try c.arity(2, 4)
            let x = try c.tensor(1, "an input tensor"), w = try c.tensor(2, "a weight tensor")
            var optsAt: Int32 = 3, bias: Tensor?
            if let b = c.optTensor(3) { bias = b; optsAt = 4 } else if c.count == 4 && c.isNil(3) { optsAt = 4 }
            let o = try LuaOptions(c, optsAt, known: ["stride", "padding"])
            return c.push(try x.conv2d(w, bias: bias, stride: try o.pair("stride") ?? (1, 1), padding: try o.pair("padding") ?? (0, 0)))
        },
        LuaFunction("max_pool2d") { c in
            // max_pool2d(x, kernel [, {stride = kernel, padding = 0}])
            try c.arity(2, 3)
            let o = try LuaOptions(c, 3, known: ["stride", "padding"])
            return c.push(try c.tensor(1).maxPool2d(kernel: try c.pair(2, "kernel"), stride: try o.pair("stride"), padding: try o.pair("padding") ?? (0, 0)))
        },
        LuaFunction("avg_pool2d") { c in
            try c.arity(2, 3)
            let o = try LuaOptions(c, 3, known: ["stride", "padding"])
            return c.push(try c.tensor(1).avgPool2d(kernel: try c.pair(2, "kernel"), stride: try o.pair("stride"), padding: try o.pair("padding") ?? (0, 0)))
        },
        LuaFunction("adaptive_avg_pool2d") { c in
            try c.arity(2, 2)
            return c.push(try c.tensor(1).adaptiveAvgPool2d(try c.pair(2, "output size")))
        },
    ]
}

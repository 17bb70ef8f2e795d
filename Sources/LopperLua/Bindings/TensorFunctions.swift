import CLua
import Dispatch
import LuaShim
import LopperCore

/// `lp.*` functions that make tensors or take several: constructors, `cat`, `stack`,
/// `where`, seeding. Methods (also callable as `lp.name(t, …)`) are in TensorMethods.
enum TensorFunctions {
    static let all: [LuaFunction] = [
        LuaFunction("zeros") { c in c.push(try Tensor.zeros(try c.shape(from: 1))) },
        LuaFunction("ones") { c in c.push(try Tensor.ones(try c.shape(from: 1))) },
        LuaFunction("full") { c in
            // full({2, 3}, value) or full(2, 3, value).
            guard c.count >= 2 else { throw c.error("expected sizes and a value, got \(c.count) argument\(c.count == 1 ? "" : "s")") }
            let value = Float(try c.number(c.count, "value"))
            if lua_type(c.L, 1) == LUA_TTABLE {
                try c.arity(2, 2)
                return c.push(try Tensor.full(try c.intList(1, "size"), value))
            }
            let sizes = try (1..<c.count).map { try c.int($0, "size \($0)") }
            return c.push(try Tensor.full(sizes, value))
        },
        LuaFunction("arange") { c in
            // arange(stop) | arange(start, stop [, step]): stop excluded, as in PyTorch.
            try c.arity(1, 3)
            let a = try c.number(1, "start"), b = try c.optNumber(2, "stop"), s = try c.optNumber(3, "step")
            return c.push(b == nil ? try Tensor.arange(0, a) : try Tensor.arange(a, b!, s ?? 1))
        },
        LuaFunction("linspace") { c in
            try c.arity(3, 3)
            return c.push(try Tensor.linspace(try c.number(1, "start"), try c.number(2, "stop"), try c.int(3, "steps")))
        },
        LuaFunction("eye") { c in
            try c.arity(1, 2)
            return c.push(try Tensor.eye(try c.int(1, "n"), try c.optInt(2, "m")))
        },
        LuaFunction("rand") { c in c.push(try Tensor.rand(try c.shape(from: 1))) },
        LuaFunction("randn") { c in c.push(try Tensor.randn(try c.shape(from: 1))) },
        LuaFunction("randperm") { c in
            // A random permutation of 1..n (1-based, like every index in Lopper's Lua API).
            try c.arity(1, 1)
            return c.push(try Tensor.randperm(try c.int(1, "n")).add(1))
        },
        LuaFunction("from") { c in
            try c.arity(1, 1)
            return c.push(try TensorConversion.fromTable(c, 1))
        },
        LuaFunction("manual_seed") { c in
            try c.arity(1, 1)
            let seed = try c.int(1, "seed")
            RandomGenerator.shared.reseed(UInt64(bitPattern: Int64(seed)))
            return 0
        },
        LuaFunction("clock") { c in
            // Wall-clock seconds from a monotonic clock (os.clock is CPU time of all threads).
            try c.arity(0, 0)
            return c.push(Double(DispatchTime.now().uptimeNanoseconds) / 1e9)
        },
        LuaFunction("memory_limit") { c in
            // The tensor memory budget in bytes, and the bytes tensors hold now.
            try c.arity(0, 0)
            c.push(int: MemoryBudget.limitBytes)
            return 1 + c.push(int: Storage.liveBytes)
        },
        LuaFunction("set_memory_limit") { c in
            // set_memory_limit("8G" | bytes | nil): nil restores the default (3/4 of RAM).
            // Under --sandbox the limit can only go down.
            try c.arity(1, 1)
            var bytes: Int?
            if c.isNil(1) { bytes = MemoryBudget.defaultLimit }
            else if lua_type(c.L, 1) == LUA_TNUMBER { bytes = try c.int(1, "limit"); if bytes! <= 0 { bytes = nil } }
            else if lua_type(c.L, 1) == LUA_TSTRING { bytes = MemoryBudget.parse(try c.string(1, "limit")) }
            guard let limit = bytes else {
                let given = lua_type(c.L, 1) == LUA_TSTRING ? "'\(try c.string(1, "limit"))'" : c.typeName(1)
                throw c.error("expected a size such as '18G', '512M' or a number of bytes, got \(given)")
            }
            if let cap = Sandbox.current?.memoryCap, limit > cap {
                throw c.error("sandbox: the memory limit cannot be raised above \(MemoryBudget.formatBytes(cap))")
            }
            MemoryBudget.limitBytes = limit
            return 0
        },
        LuaFunction("is_tensor") { c in
            try c.arity(1, 1)
            return c.push(c.optTensor(1) != nil)
        },
        LuaFunction("cat") { c in
            try c.arity(1, 2)
            let ts = try c.tensorList(1)
            let d = try c.optDim(2, rank: ts.first?.rank ?? 1) ?? 0
            return c.push(try Tensor.cat(ts, dim: d))
        },
        LuaFunction("stack") { c in
            try c.arity(1, 2)
            let ts = try c.tensorList(1)
            let d = try c.optDim(2, rank: (ts.first?.rank ?? 0) + 1) ?? 0
            return c.push(try Tensor.stack(ts, dim: d))
        },
        LuaFunction("where") { c in
            try c.arity(3, 3)
            return c.push(try Tensor.where(try c.tensor(1, "a condition tensor"), try c.operand(2, "a"), try c.operand(3, "b")))
        },
    ]
}

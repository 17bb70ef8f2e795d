import CLua
import LuaShim
import LopperCore

/// Tensors to and from nested Lua tables, and Torch7-style slicing with a table key.
enum TensorConversion {
    /// Builds a tensor from a number or a nested table of numbers (`lp.from{{1,2},{3,4}}`).
    static func fromTable(_ c: LuaCall, _ i: Int32) throws -> Tensor {
        let L = c.L
        if lua_type(L, i) == LUA_TNUMBER { return Tensor(scalar: Float(lp_tonumber(L, i))) }
        guard lua_type(L, i) == LUA_TTABLE else {
            throw c.error("expected a number or a (nested) table of numbers, got \(c.typeName(i))")
        }
        // The shape follows the first element at each depth.
        var shape: [Int] = []
        lua_pushvalue(L, i)
        var depth: Int32 = 1
        while lua_type(L, -1) == LUA_TTABLE {
            let n = Int(lua_rawlen(L, -1))
            shape.append(n)
            if n == 0 { break }
            guard shape.count <= Shape.maxRank, lua_checkstack(L, 2) != 0 else {
                lp_pop(L, depth)
                throw c.error("tables nest more than \(Shape.maxRank) deep (a tensor has at most \(Shape.maxRank) dimensions; does a table contain itself?)")
            }
            lua_rawgeti(L, -1, 1)
            depth += 1
        }
        lp_pop(L, depth)
        try MemoryBudget.checkShape(shape, op: c.name)
        var values: [Float] = []
        values.reserveCapacity(Shape.count(shape))
        try read(c, i, shape: shape, level: 0, path: "", into: &values)
        return try Tensor(shape: shape, values: values)
    }

    private static func read(_ c: LuaCall, _ idx: Int32, shape: [Int], level: Int, path: String, into values: inout [Float]) throws {
        let L = c.L
        let n = Int(lua_rawlen(L, idx))
        guard n == shape[level] else {
            throw c.error("rows must have equal lengths: element \(path.isEmpty ? "table" : path) has \(n) entries, expected \(shape[level])")
        }
        guard lua_checkstack(L, 2) != 0 else { throw c.error("out of Lua stack reading a nested table") }
        for k in 0..<n {
            lua_rawgeti(L, idx, lua_Integer(k + 1))
            defer { lp_pop(L, 1) }
            let here = path + "[\(k + 1)]"
            if level == shape.count - 1 {
                guard lua_type(L, -1) == LUA_TNUMBER else {
                    throw c.error("expected a number at \(here), got \(c.typeName(-1))")
                }
                values.append(Float(lp_tonumber(L, -1)))
            } else {
                guard lua_type(L, -1) == LUA_TTABLE else {
                    throw c.error("expected a table at \(here) (depth \(level + 2)), got \(c.typeName(-1))")
                }
                try read(c, lua_gettop(L), shape: shape, level: level + 1, path: here, into: &values)
            }
        }
    }

    /// Pushes a tensor as nested tables (a number for a 0-d tensor).
    static func pushTable(_ c: LuaCall, _ t: Tensor) throws {
        let L = c.L
        if t.rank == 0 { c.push(t.data[0]); return }
        // One stack slot per dimension, and a Lua table per row: both bounded first.
        guard lua_checkstack(L, Int32(t.rank) + 2) != 0 else { throw c.error("a \(t.rank)-d tensor nests too deep for the Lua stack") }
        let rows = t.shape.dropLast().reduce(1) { $0 * $1 }
        guard t.count <= 1 << 27, rows <= 1 << 27 else {
            throw c.error("a tensor of shape \(describeShape(t.shape)) is too large for nested Lua tables (at most 2^27 numbers)")
        }
        func push(_ prefix: [Int]) {
            let d = prefix.count, n = t.shape[d]
            lua_createtable(L, Int32(n), 0)
            for k in 0..<n {
                if d == t.rank - 1 { lua_pushnumber(L, Double(t.data[t.elementOffset(prefix + [k])])) }
                else { push(prefix + [k]) }
                lua_rawseti(L, -2, lua_Integer(k + 1))
            }
        }
        push([])
    }

    /// Applies a slice table: each entry is an index (the dimension is removed), a
    /// `{first, last}` range (inclusive, negative from the end, last optional) or `{}`.
    static func slice(_ c: LuaCall, _ t: Tensor, key i: Int32) throws -> Tensor {
        let L = c.L
        let n = Int(lua_rawlen(L, i))
        guard n <= t.rank else {
            throw c.error("slice has \(n) entries but the tensor has \(t.rank) dimensions (shape \(describeShape(t.shape)))")
        }
        var out = t, dim = 0
        for k in 0..<n {
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { lp_pop(L, 1) }
            let size = out.shape[dim]
            switch lua_type(L, -1) {
            case LUA_TNUMBER:
                let idx = try c.index(-1, size: size, "dimension \(k + 1) of size \(size)")
                out = try out.select(dim, idx)
            case LUA_TTABLE:
                let len = lua_rawlen(L, -1)
                var first = 0, last = size - 1
                if len >= 1 {
                    lua_rawgeti(L, -1, 1)
                    first = try c.index(-1, size: size, "dimension \(k + 1) of size \(size)")
                    lp_pop(L, 1)
                }
                if len >= 2 {
                    lua_rawgeti(L, -1, 2)
                    last = try c.index(-1, size: size, "dimension \(k + 1) of size \(size)")
                    lp_pop(L, 1)
                } else if len == 1 {
                    last = first
                }
                guard last >= first else {
                    throw c.error("slice range {\(first + 1), \(last + 1)} of dimension \(k + 1) is empty")
                }
                out = try out.narrow(dim, first, last - first + 1)
                dim += 1
            default:
                throw c.error("slice entry \(k + 1) must be an index or a {first, last} range, got \(c.typeName(-1))")
            }
        }
        return out
    }
}

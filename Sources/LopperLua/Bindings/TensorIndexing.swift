import CLua
import LuaShim
import LopperCore

/// Index-list reads and writes: `nonzero`, `index_put_`, `scatter_`, `index_fill_`,
/// `masked_select`. Indices are 1-based, as everywhere in Lua.
enum TensorIndexing {
    static let all: [LuaFunction] = [
        LuaFunction("nonzero") { c in
            // nonzero([{flat = false}]) → [K, rank] coordinates, or [K] positions in the flattened tensor.
            try c.arity(1, 2)
            let t = try c.tensor(1)
            let o = try LuaOptions(c, 2, known: ["flat"])
            guard try o.bool("flat") ?? false else { return c.push(try t.nonzero().add(1)) }
            guard t.count <= Tensor.exactIndexLimit else {
                throw c.error("\(t.count) elements: positions past 2^24 are not exact as float indices; use coordinates (nonzero() without flat)")
            }
            let p = try t.nonzeroPositions()
            return c.push(try Tensor(shape: [p.count], values: p.map { Float($0 + 1) }))
        },
        TensorMethods.inPlace("index_put_", 3, 4) { c, t in
            // index_put_(indices, values [, accumulate = false]): indices [K] (flattened) or [K, rank].
            let positions = try t.positions(from: try c.tensor(2, "indices to be a tensor"), base: 1, op: c.name)
            try t.put_(positions, values: try valueOrTensor(c, 3, "values"), accumulate: try c.bool(4, "accumulate", default: false), op: c.name)
        },
        TensorMethods.inPlace("scatter_", 4, 4) { c, t in
            // scatter_(dim, index, source or value): self[… index[i][j] …] = source[i][j] along dim.
            guard let d = try c.optDim(2, rank: t.rank) else { throw c.error("expected a dimension") }
            try t.scatter_(dim: d, index: try c.tensor(3, "index to be a tensor"), source: try valueOrTensor(c, 4, "source"), base: 1)
        },
        TensorMethods.inPlace("index_fill_", 4, 4) { c, t in
            // index_fill_(dim, indices, value): every slice along dim at those indices.
            guard let d = try c.optDim(2, rank: t.rank) else { throw c.error("expected a dimension") }
            let idx = try c.tensor(3, "indices to be a tensor")
            guard idx.rank <= 1 else { throw c.error("expected 1-d indices, got \(describeShape(idx.shape))") }
            let n = t.rank == 0 ? 1 : t.shape[d]
            let list = try idx.contiguous()
            let indices = try (0..<list.count).map { k -> Int in
                let v = list.data[k]
                guard v.isFinite, v == v.rounded(), v >= 1, v <= Float(n) else {
                    throw c.error("index \(v) is outside 1…\(n) along dimension \(d + 1)")
                }
                return Int(v) - 1
            }
            try t.indexFill_(dim: d, indices: indices, value: Float(try c.number(4, "value")))
        },
        LuaFunction("masked_select") { c in
            // masked_select(mask) → 1-d tensor of the elements where mask ≠ 0 (differentiable).
            try c.arity(2, 2)
            return c.push(try c.tensor(1).maskedSelect(try c.tensor(2, "mask to be a tensor")))
        },
    ]

    static func valueOrTensor(_ c: LuaCall, _ i: Int32, _ what: String) throws -> Tensor {
        if lua_type(c.L, i) == LUA_TNUMBER { return Tensor(scalar: Float(lp_tonumber(c.L, i))) }
        return try c.tensor(i, "\(what) to be a tensor or a number")
    }
}

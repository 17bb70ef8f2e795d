import CLua
import LuaShim
import LopperCore
import LopperNN
import LopperPrune

/// `lp.prune.topk_among`, `lp.prune.drop` and `lp.prune.grow`: mask edits with exact counts.
enum MaskEditBindings {
    static let editKeys = ["score", "count", "fraction", "optimizer"] + PruneBindings.selectionKeys + PruneBindings.dataKeys

    static let functions: [LuaFunction] = [
        LuaFunction("topk_among") { c in
            // topk_among(scores, mask, k [, {largest = true}]) → positions [k] (1-based, flattened, in order)
            try c.arity(3, 4)
            let scores = try c.tensor(1, "scores to be a tensor"), mask = try c.tensor(2, "mask to be a tensor")
            guard mask.shape == scores.shape else {
                throw c.error("mask \(describeShape(mask.shape)) does not match scores \(describeShape(scores.shape))")
            }
            guard scores.count <= Tensor.exactIndexLimit else { throw c.error("\(scores.count) elements: positions past 2^24 are not exact as float indices") }
            let o = try LuaOptions(c, 4, known: ["largest"])
            try checkFinite(c, scores)
            let picked = try MaskEdit.pick([(scores, try mask.nonzeroPositions())], k: try c.int(3, "k"),
                                           largest: try o.bool("largest") ?? true, op: c.name)[0]
            return c.push(try Tensor(shape: [picked.count], values: picked.map { Float($0 + 1) }))
        },
        edit("drop", grow: false),
        edit("grow", grow: true),
    ]

    static func checkFinite(_ c: LuaCall, _ t: Tensor) throws {
        let x = try t.contiguous()
        for i in 0..<x.count where !x.data[i].isFinite {
            let what = x.data[i].isNaN ? "NaN" : (x.data[i] > 0 ? "Inf" : "-Inf")
            throw c.error("scores hold \(what) at element \(i + 1); scores must be finite")
        }
    }

    static func edit(_ name: String, grow: Bool) -> LuaFunction {
        LuaFunction(name) { c in
            // drop(net, {score = "magnitude", count | fraction, optimizer, …}) / grow(net, {score = "gradient", …})
            //   → {name = how many}, {name = positions (1-based, flattened)}
            try c.arity(2, 2)
            let net = try ModuleBindings.check(c, 1)
            let o = try LuaOptions(c, 2, known: editKeys)
            let targets = try PruneBindings.selection(o, c).select(net, op: c.name)
            let count = try o.get("count") { i -> MaskEdit.Amount in
                guard lua_type(c.L, i) == LUA_TTABLE else { return .count(try c.int(i, "count")) }
                var table: [String: Int] = [:]
                lua_pushnil(c.L)
                while lua_next(c.L, i) != 0 {
                    defer { c.pop() }
                    guard lua_type(c.L, -2) == LUA_TSTRING else { throw c.error("expected count as a number or {name = count}") }
                    table[String(cString: lp_tostring(c.L, -2))] = try c.int(-1, "count")
                }
                return .perLayer(table)
            }
            let amount: MaskEdit.Amount
            switch (count, try o.number("fraction")) {
            case (let a?, nil): amount = a
            case (nil, let f?): amount = .fraction(f)
            case (nil, nil): throw c.error("expected option count (a number, or {name = count}) or fraction")
            default: throw c.error("give count or fraction, not both")
            }
            let optimizer = try o.get("optimizer") { try OptimBindings.optimizer.check(c, $0) }
            let data = try PruneBindings.scoreData(o, c, net)
            let named = try o.get("score") { lua_type(c.L, $0) == LUA_TSTRING ? try c.string($0, "score") : "" }
            let scores: [Tensor]
            if grow && data == nil && (named == nil || named == "gradient") {
                // RigL's grow score: the dense gradient the last backward left.
                scores = try targets.map { t in
                    guard let g = t.tensor.grad else {
                        throw c.error("score 'gradient' reads \(t.name).grad, which is empty: run a backward first (or give data = to compute one)")
                    }
                    return try g.detach().map { Swift.abs($0) }
                }
            } else if named == nil {
                scores = try Scores.compute(.magnitude, net: net, targets: targets)
            } else {
                scores = try o.get("score") { try PruneBindings.scoreFunction(c, $0, net: net, netIndex: 1, targets: targets, data: data)() }!
            }
            let chosen = grow ? try MaskEdit.grow(targets, scores: scores, amount: amount, optimizer: optimizer)
                              : try MaskEdit.drop(targets, scores: scores, amount: amount, optimizer: optimizer)
            lua_createtable(c.L, 0, Int32(targets.count))
            lua_createtable(c.L, 0, Int32(targets.count))
            for (t, picked) in zip(targets, chosen) {
                c.push(int: picked.count); lua_setfield(c.L, -3, t.name)
                guard t.tensor.count <= Tensor.exactIndexLimit else { continue }
                c.push(try Tensor(shape: [picked.count], values: picked.map { Float($0 + 1) })); lua_setfield(c.L, -2, t.name)
            }
            return 2
        }
    }
}

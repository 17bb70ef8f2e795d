import CLua
import LuaShim
import LopperCore

/// Tensor methods, callable as `t:name(…)` and as `lp.name(t, …)`. Dimensions and
/// indices are 1-based (negative counts from the end), as in Torch7.
enum TensorMethods {
    // MARK: Shapes of bindings

    static func unary(_ name: String, _ f: @escaping (Tensor) throws -> Tensor) -> LuaFunction {
        LuaFunction(name) { c in
            try c.arity(1, 1)
            return c.push(try f(try c.tensor(1)))
        }
    }

    /// A binary op whose second operand is a tensor (broadcast) or a number.
    static func binary(_ name: String, _ tensor: @escaping (Tensor, Tensor) throws -> Tensor,
                       _ scalar: @escaping (Tensor, Float) throws -> Tensor) -> LuaFunction {
        LuaFunction(name) { c in
            try c.arity(2, 2)
            let a = try c.tensor(1)
            if lua_type(c.L, 2) == LUA_TNUMBER { return c.push(try scalar(a, Float(lp_tonumber(c.L, 2)))) }
            return c.push(try tensor(a, try c.operand(2)))
        }
    }

    /// An in-place op: returns its first argument (the same userdata) for chaining.
    static func inPlace(_ name: String, _ min: Int32, _ max: Int32, _ f: @escaping (LuaCall, Tensor) throws -> Void) -> LuaFunction {
        LuaFunction(name) { c in
            try c.arity(min, max)
            let t = try c.tensor(1)
            if t.requiresGrad && Autograd.isEnabled {
                throw c.error("in-place change of a tensor that requires grad would corrupt its gradient; wrap it in lp.no_grad(function() … end)")
            }
            if t.hasInternalOverlap {
                throw c.error("in-place write to an expanded tensor of shape \(describeShape(t.shape)), whose elements share memory; write to a :clone() instead")
            }
            try f(c, t)
            lua_settop(c.L, 1)
            return 1
        }
    }

    /// A reduction `t:name([dim [, keepdim]])`.
    static func reduction(_ name: String, _ f: @escaping (Tensor, Int?, Bool) throws -> Tensor) -> LuaFunction {
        LuaFunction(name) { c in
            try c.arity(1, 3)
            let t = try c.tensor(1)
            return c.push(try f(t, try c.optDim(2, rank: t.rank), try c.bool(3, "keepdim", default: false)))
        }
    }

    /// `t:max()` → 0-d tensor; `t:max(dim [, keepdim])` → values, indices (1-based).
    static func extremum(_ name: String, largest: Bool) -> LuaFunction {
        LuaFunction(name) { c in
            try c.arity(1, 3)
            let t = try c.tensor(1)
            guard let d = try c.optDim(2, rank: t.rank) else {
                return c.push(largest ? try t.max() : try t.min())
            }
            let (v, i) = try t.extremum(largest: largest, dim: d, keepdim: try c.bool(3, "keepdim", default: false), op: name)
            c.push(v)
            return c.push(try i.add(1)) + 1
        }
    }

    static func arg(_ name: String, largest: Bool) -> LuaFunction {
        LuaFunction(name) { c in
            try c.arity(1, 3)
            let t = try c.tensor(1)
            let (_, i) = try t.extremum(largest: largest, dim: try c.optDim(2, rank: t.rank),
                                        keepdim: try c.bool(3, "keepdim", default: false), op: name)
            return c.push(try i.add(1))
        }
    }

    // MARK: The methods

    static let all: [LuaFunction] = info + views + arithmetic + reductions + ordering + inPlaceOps

    static let info: [LuaFunction] = [
        LuaFunction("shape") { c in try c.arity(1, 1); return c.push(ints: try c.tensor(1).shape) },
        LuaFunction("size") { c in
            try c.arity(1, 2)
            let t = try c.tensor(1)
            guard let d = try c.optDim(2, rank: t.rank) else { return c.push(ints: t.shape) }
            return c.push(int: t.rank == 0 ? 1 : t.shape[d])
        },
        LuaFunction("stride") { c in
            try c.arity(1, 2)
            let t = try c.tensor(1)
            guard let d = try c.optDim(2, rank: t.rank) else { return c.push(ints: t.strides) }
            return c.push(int: t.rank == 0 ? 1 : t.strides[d])
        },
        LuaFunction("dim") { c in try c.arity(1, 1); return c.push(int: try c.tensor(1).rank) },
        LuaFunction("numel") { c in try c.arity(1, 1); return c.push(int: try c.tensor(1).count) },
        LuaFunction("is_contiguous") { c in try c.arity(1, 1); return c.push(try c.tensor(1).isContiguous) },
        LuaFunction("item") { c in try c.arity(1, 1); return c.push(try c.tensor(1).item()) },
        LuaFunction("totable") { c in
            try c.arity(1, 1)
            try TensorConversion.pushTable(c, try c.tensor(1))
            return 1
        },
        LuaFunction("equal") { c in
            try c.arity(2, 2)
            let a = try c.tensor(1), b = try c.tensor(2, "a tensor to compare with")
            return c.push(a.shape == b.shape && a.toArray() == b.toArray())
        },
        LuaFunction("allclose") { c in
            // |a - b| <= atol + rtol·|b| everywhere (PyTorch's defaults).
            try c.arity(2, 4)
            let a = try c.tensor(1), b = try c.operand(2)
            let rtol = Float(try c.optNumber(3, "rtol") ?? 1e-5), atol = Float(try c.optNumber(4, "atol") ?? 1e-8)
            let bad = try Tensor.zip(a, b, op: "allclose") { x, y in Swift.abs(x - y) <= atol + rtol * Swift.abs(y) ? 0 : 1 }
            return c.push(try bad.sum().item() == 0)
        },
        LuaFunction("shares_storage") { c in
            try c.arity(2, 2)
            return c.push(try c.tensor(1).sharesStorage(with: try c.tensor(2, "a second tensor")))
        },
    ]

    static let views: [LuaFunction] = [
        LuaFunction("clone") { c in try c.arity(1, 1); return c.push(try c.tensor(1).clone()) },
        LuaFunction("contiguous") { c in try c.arity(1, 1); return c.push(try c.tensor(1).contiguous()) },
        LuaFunction("reshape") { c in let t = try c.tensor(1); return c.push(try t.reshape(try c.shape(from: 2))) },
        LuaFunction("view") { c in let t = try c.tensor(1); return c.push(try t.view(try c.shape(from: 2))) },
        LuaFunction("flatten") { c in try c.arity(1, 1); let t = try c.tensor(1); return c.push(try t.reshape([t.count])) },
        LuaFunction("expand") { c in let t = try c.tensor(1); return c.push(try t.expand(try c.shape(from: 2))) },
        LuaFunction("transpose") { c in
            try c.arity(1, 3)
            let t = try c.tensor(1)
            if c.count == 1 {
                guard t.rank == 2 else { throw c.error("without dimensions expects a 2-d tensor, got shape \(describeShape(t.shape))") }
                return c.push(try t.transpose(0, 1))
            }
            return c.push(try t.transpose(try c.dim(2, rank: t.rank, "dim1"), try c.dim(3, rank: t.rank, "dim2")))
        },
        LuaFunction("t") { c in
            try c.arity(1, 1)
            let t = try c.tensor(1)
            guard t.rank == 2 else { throw c.error("expected a 2-d tensor, got shape \(describeShape(t.shape))") }
            return c.push(try t.transpose(0, 1))
        },
        LuaFunction("permute") { c in
            let t = try c.tensor(1)
            let dims = try c.shape(from: 2, what: "dim")
            guard dims.count == t.rank else {
                throw c.error("expected \(t.rank) dimensions for shape \(describeShape(t.shape)), got \(dims.count)")
            }
            let zero = try dims.map { try LuaCall.zeroBased($0, size: t.rank, what: "dim", of: "a \(t.rank)-d tensor", call: c) }
            guard Set(zero).count == zero.count else {
                throw c.error("dimensions must be a permutation of 1..\(t.rank), got \(describeShape(dims))")
            }
            return c.push(try t.permute(zero))
        },
        LuaFunction("squeeze") { c in
            try c.arity(1, 2)
            let t = try c.tensor(1)
            return c.push(try t.squeeze(try c.optDim(2, rank: t.rank)))
        },
        LuaFunction("unsqueeze") { c in
            // The new dimension's position in the result: 1..rank+1, or -1 for last.
            try c.arity(2, 2)
            let t = try c.tensor(1)
            let d = try LuaCall.zeroBased(try c.int(2, "dim"), size: t.rank + 1, what: "dim", of: "unsqueeze of a \(t.rank)-d tensor", call: c)
            return c.push(try t.unsqueeze(d))
        },
        LuaFunction("narrow") { c in
            try c.arity(4, 4)
            let t = try c.tensor(1)
            let d = try c.dim(2, rank: t.rank)
            guard t.rank > 0 else { throw c.error("cannot narrow a 0-d tensor") }
            let start = try c.index(3, size: t.shape[d], "dimension \(d + 1) of size \(t.shape[d])")
            let length = try c.int(4, "length")
            guard length >= 0, length <= t.shape[d] - start else {
                throw c.error("start \(start + 1) with length \(length) runs past dimension \(d + 1) of size \(t.shape[d])")
            }
            return c.push(try t.narrow(d, start, length))
        },
        LuaFunction("select") { c in
            try c.arity(3, 3)
            let t = try c.tensor(1)
            let d = try c.dim(2, rank: t.rank)
            guard t.rank > 0 else { throw c.error("cannot select from a 0-d tensor") }
            return c.push(try t.select(d, try c.index(3, size: t.shape[d], "dimension \(d + 1) of size \(t.shape[d])")))
        },
    ]

    static let arithmetic: [LuaFunction] = [
        binary("add", { try $0.add($1) }, { try $0.add($1) }),
        binary("sub", { try $0.sub($1) }, { try $0.sub($1) }),
        binary("mul", { try $0.mul($1) }, { try $0.mul($1) }),
        binary("div", { try $0.div($1) }, { try $0.div($1) }),
        binary("pow", { try $0.pow($1) }, { try $0.pow($1) }),
        binary("maximum", { try $0.maximum($1) }, { t, s in try t.map { Swift.max($0, s) } }),
        binary("minimum", { try $0.minimum($1) }, { t, s in try t.map { Swift.min($0, s) } }),
        binary("gt", { try $0.gt($1) }, { try $0.gt($1) }),
        binary("lt", { try $0.lt($1) }, { try $0.lt($1) }),
        binary("ge", { try $0.ge($1) }, { try $0.ge($1) }),
        binary("le", { try $0.le($1) }, { try $0.le($1) }),
        binary("eq", { try $0.eq($1) }, { try $0.eq($1) }),
        binary("ne", { try $0.ne($1) }, { try $0.ne($1) }),
        unary("neg") { try $0.neg() },
        unary("abs") { try $0.abs() },
        unary("sign") { try $0.sign() },
        unary("sqrt") { try $0.sqrt() },
        unary("exp") { try $0.exp() },
        unary("log") { try $0.log() },
        unary("relu") { try $0.relu() },
        unary("sigmoid") { try $0.sigmoid() },
        unary("tanh") { try $0.tanh() },
        LuaFunction("clamp") { c in
            try c.arity(2, 3)
            let t = try c.tensor(1)
            let lo = try c.optNumber(2, "min").map(Float.init), hi = try c.optNumber(3, "max").map(Float.init)
            return c.push(try t.clamp(min: lo, max: hi))
        },
        LuaFunction("matmul") { c in
            try c.arity(2, 2)
            return c.push(try c.tensor(1).matmul(try c.tensor(2, "a tensor to multiply by")))
        },
    ]

    static let reductions: [LuaFunction] = [
        reduction("sum") { try $0.sum(dim: $1, keepdim: $2) },
        reduction("mean") { try $0.mean(dim: $1, keepdim: $2) },
        extremum("max", largest: true),
        extremum("min", largest: false),
        arg("argmax", largest: true),
        arg("argmin", largest: false),
        LuaFunction("count_nonzero") { c in
            try c.arity(1, 2)
            let t = try c.tensor(1)
            return c.push(try t.countNonzero(dim: try c.optDim(2, rank: t.rank)))
        },
        LuaFunction("norm") { c in
            // norm([p [, dim [, keepdim]]]): p = 1, 2 (default) or math.huge.
            try c.arity(1, 4)
            let t = try c.tensor(1)
            return c.push(try t.norm(p: try c.optNumber(2, "p") ?? 2, dim: try c.optDim(3, rank: t.rank),
                                     keepdim: try c.bool(4, "keepdim", default: false)))
        },
        LuaFunction("var") { c in
            // var([dim [, unbiased [, keepdim]]]): unbiased (n-1) by default.
            try c.arity(1, 4)
            let t = try c.tensor(1)
            return c.push(try t.variance(dim: try c.optDim(2, rank: t.rank), unbiased: try c.bool(3, "unbiased", default: true),
                                         keepdim: try c.bool(4, "keepdim", default: false)))
        },
        LuaFunction("std") { c in
            try c.arity(1, 4)
            let t = try c.tensor(1)
            return c.push(try t.std(dim: try c.optDim(2, rank: t.rank), unbiased: try c.bool(3, "unbiased", default: true),
                                    keepdim: try c.bool(4, "keepdim", default: false)))
        },
    ]

    static let ordering: [LuaFunction] = [
        LuaFunction("sort") { c in
            // sort([dim [, descending]]) → values, indices (1-based); stable.
            try c.arity(1, 3)
            let t = try c.tensor(1)
            let (v, i) = try t.sort(dim: try c.optDim(2, rank: t.rank) ?? -1, descending: try c.bool(3, "descending", default: false))
            c.push(v)
            return c.push(try i.add(1)) + 1
        },
        LuaFunction("topk") { c in
            // topk(k [, dim [, largest]]) → values, indices (1-based), largest first.
            try c.arity(2, 4)
            let t = try c.tensor(1)
            let (v, i) = try t.topk(try c.int(2, "k"), dim: try c.optDim(3, rank: t.rank) ?? -1,
                                    largest: try c.bool(4, "largest", default: true))
            c.push(v)
            return c.push(try i.add(1)) + 1
        },
        LuaFunction("gather") { c in
            // gather(dim, index): out[…, t, …] = self[…, index[…, t, …], …] (1-based indices), as torch.gather.
            try c.arity(3, 3)
            let t = try c.tensor(1)
            guard let d = try c.optDim(2, rank: t.rank) else { throw c.error("expected a dimension") }
            return c.push(try t.gather(dim: d, index: try c.tensor(3, "index to be a tensor").sub(1)))
        },
        LuaFunction("kthvalue") { c in
            // kthvalue(k [, dim [, keepdim]]): the k-th smallest → value, index (1-based).
            try c.arity(2, 4)
            let t = try c.tensor(1)
            let (v, i) = try t.kthvalue(try c.int(2, "k"), dim: try c.optDim(3, rank: t.rank),
                                        keepdim: try c.bool(4, "keepdim", default: false))
            c.push(v)
            return c.push(try i.add(1)) + 1
        },
        LuaFunction("quantile") { c in
            try c.arity(2, 2)
            return c.push(Tensor(scalar: try c.tensor(1).quantile(try c.number(2, "q"))))
        },
    ]

    static let inPlaceOps: [LuaFunction] = [
        inPlace("add_", 2, 3) { c, t in
            // add_(other [, alpha]): t += alpha · other.
            let alpha = Float(try c.optNumber(3, "alpha") ?? 1)
            if lua_type(c.L, 2) == LUA_TNUMBER { t.add_(alpha * Float(lp_tonumber(c.L, 2))) }
            else { try t.add_(try c.operand(2), alpha: alpha) }
        },
        inPlace("sub_", 2, 2) { c, t in
            if lua_type(c.L, 2) == LUA_TNUMBER { t.add_(-Float(lp_tonumber(c.L, 2))) } else { try t.sub_(try c.operand(2)) }
        },
        inPlace("mul_", 2, 2) { c, t in
            if lua_type(c.L, 2) == LUA_TNUMBER { t.mul_(Float(lp_tonumber(c.L, 2))) } else { try t.mul_(try c.operand(2)) }
        },
        inPlace("div_", 2, 2) { c, t in
            if lua_type(c.L, 2) == LUA_TNUMBER { let s = Float(lp_tonumber(c.L, 2)); t.apply_ { $0 / s } } else { try t.div_(try c.operand(2)) }
        },
        inPlace("fill_", 2, 2) { c, t in t.fill_(Float(try c.number(2, "value"))) },
        inPlace("zero_", 1, 1) { _, t in t.zero_() },
        inPlace("copy_", 2, 2) { c, t in try t.copy_(try c.operand(2, "source")) },
        inPlace("masked_fill_", 3, 3) { c, t in
            try t.masked_fill_(try c.tensor(2, "a mask tensor"), Float(try c.number(3, "value")))
        },
        inPlace("clamp_", 2, 3) { c, t in
            t.clamp_(min: try c.optNumber(2, "min").map(Float.init), max: try c.optNumber(3, "max").map(Float.init))
        },
    ]
}

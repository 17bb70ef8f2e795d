import CLua
import LuaShim
import LopperCore

/// The tensor metatable: operators with numbers on either side, 1-based `t[i]` reads and
/// writes, slicing with `t[{{1,2}, 3}]`, `#t`, `tostring`, and release on collection.
enum TensorMetamethods {
    /// `a op b` where either side may be a number.
    static func arithmetic(_ name: String, op: String, _ tt: @escaping (Tensor, Tensor) throws -> Tensor,
                           _ ts: @escaping (Tensor, Float) throws -> Tensor, _ st: @escaping (Float, Tensor) throws -> Tensor) -> LuaFunction {
        LuaFunction(op) { c in
            let L = c.L
            if lua_type(L, 1) == LUA_TNUMBER { return c.push(try st(Float(lp_tonumber(L, 1)), try c.tensor(2))) }
            let a = try c.tensor(1, "a tensor or a number on each side of \(name)")
            if lua_type(L, 2) == LUA_TNUMBER { return c.push(try ts(a, Float(lp_tonumber(L, 2)))) }
            return c.push(try tt(a, try c.tensor(2, "a tensor or a number on each side of \(name)")))
        }
    }

    /// `<`/`<=` between a one-element tensor and a number or another one-element tensor;
    /// elementwise comparisons are `t:lt(u)` and friends.
    static func order(_ name: String, _ f: @escaping (Float, Float) -> Bool) -> LuaFunction {
        LuaFunction(name) { c in
            func value(_ i: Int32) throws -> Float {
                if lua_type(c.L, i) == LUA_TNUMBER { return Float(lp_tonumber(c.L, i)) }
                let t = try c.tensor(i)
                guard t.count == 1 else {
                    throw c.error("comparing with < or <= needs one-element tensors, got shape \(describeShape(t.shape)); use t:lt(x), t:le(x) for elementwise comparison")
                }
                return t.data[0]
            }
            return c.push(f(try value(1), try value(2)))
        }
    }

    static let metamethods: [(String, LuaFunction)] = [
        ("__add", arithmetic("+", op: "add", { try $0.add($1) }, { try $0.add($1) }, { try $1.add($0) })),
        ("__sub", arithmetic("-", op: "sub", { try $0.sub($1) }, { try $0.sub($1) }, { try $1.rsub($0) })),
        ("__mul", arithmetic("*", op: "mul", { try $0.mul($1) }, { try $0.mul($1) }, { try $1.mul($0) })),
        ("__div", arithmetic("/", op: "div", { try $0.div($1) }, { try $0.div($1) }, { try $1.rdiv($0) })),
        ("__pow", arithmetic("^", op: "pow", { try $0.pow($1) }, { try $0.pow($1) }, { try $1.rpow($0) })),
        ("__unm", LuaFunction("neg") { c in c.push(try c.tensor(1).neg()) }),
        ("__lt", order("lt") { $0 < $1 }),
        ("__le", order("le") { $0 <= $1 }),
        ("__len", LuaFunction("#") { c in
            let t = try c.tensor(1)
            guard t.rank > 0 else { throw c.error("a 0-d tensor has no length; use t:item()") }
            return c.push(int: t.shape[0])
        }),
        ("__tostring", LuaFunction("tostring") { c in c.push(try c.tensor(1).description) }),
        ("__concat", LuaFunction("..") { c in
            // "loss " .. t: one-element tensors join as their number, others as tostring.
            func text(_ i: Int32) throws -> String {
                if let t = c.optTensor(i) {
                    return t.count == 1 ? "\(Double(t.data[0]))" : t.description
                }
                if lua_type(c.L, i) == LUA_TSTRING || lua_type(c.L, i) == LUA_TNUMBER {
                    lua_pushvalue(c.L, i)
                    defer { c.pop() }
                    return String(cString: lp_tostring(c.L, -1))
                }
                throw c.error("cannot join a \(c.typeName(i)) with a tensor")
            }
            return c.push(try text(1) + text(2))
        }),
        ("__newindex", LuaFunction("assignment") { c in
            let t = try c.tensor(1)
            if lua_type(c.L, 2) == LUA_TSTRING && String(cString: lp_tostring(c.L, 2)) == "grad" {
                // t.grad = nil clears a gradient; t.grad = g sets one of the same shape.
                if c.isNil(3) { t.grad = nil; return 0 }
                let g = try c.tensor(3, "a tensor or nil for .grad")
                guard g.shape == t.shape else {
                    throw c.error(".grad must have the tensor's shape \(describeShape(t.shape)), got \(describeShape(g.shape))")
                }
                t.grad = g
                return 0
            }
            if t.hasInternalOverlap {
                throw c.error("cannot write into an expanded tensor of shape \(describeShape(t.shape)), whose elements share memory; write to a :clone() instead")
            }
            let target = try element(c, t)
            if lua_type(c.L, 3) == LUA_TNUMBER { target.fill_(Float(lp_tonumber(c.L, 3))) }
            else if let v = c.optTensor(3) { try target.copy_(v) }
            else { throw c.error("a tensor element takes a number or a tensor, got \(c.typeName(3))") }
            return 0
        }),
        ("__gc", LuaFunction("gc") { c in
            if let p = lp_to_tensor(c.L, 1) {
                lp_clear_slot(c.L, 1)
                Unmanaged<Tensor>.fromOpaque(p).release()
            }
            return 0
        }),
    ]

    /// `t[key]` for keys that are not method names: a number (1-based, a number for 1-d
    /// tensors, else a view of the sub-tensor) or a slice table; other strings give nil.
    static let indexer = LuaFunction("index") { c in
        let t = try c.tensor(1)
        if lua_type(c.L, 2) == LUA_TSTRING {
            // Fields: t.grad, t.mask (a copy: a mask changed in place would bypass the
            // optimizer's check); any other unknown name is nil (so t:nosuch() says "nil value").
            let key = String(cString: lp_tostring(c.L, 2))
            if key == "grad", let g = t.grad { return c.push(g) }
            if key == "mask", let m = t.mask { return c.push(try m.clone()) }
            return c.pushNil()
        }
        let v = try element(c, t)
        if v.rank == 0 && lua_type(c.L, 2) == LUA_TNUMBER { return c.push(v.data[0]) }
        return c.push(v)
    }

    /// The view that `t[key]` names (key at stack index 2).
    static func element(_ c: LuaCall, _ t: Tensor) throws -> Tensor {
        switch lua_type(c.L, 2) {
        case LUA_TNUMBER:
            guard t.rank > 0 else { throw c.error("cannot index a 0-d tensor; use t:item()") }
            return try t.select(0, try c.index(2, size: t.shape[0], "dimension 1 of size \(t.shape[0])"))
        case LUA_TTABLE:
            return try TensorConversion.slice(c, t, key: 2)
        case LUA_TSTRING:
            throw c.error("tensors have no field '\(String(cString: lp_tostring(c.L, 2)))' to assign")
        default:
            throw c.error("expected an index (number) or a slice table, got \(c.typeName(2))")
        }
    }
}

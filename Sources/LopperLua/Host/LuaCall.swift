import CLua
import LuaShim
import LopperCore

extension TensorError: TensorErrorConvertible { var luaMessage: String { message } }

/// One call of a binding: typed access to its arguments, with errors that name the
/// function, the argument, what was expected and what was given. Only non-raising Lua API
/// calls are used here (raw table access, no string coercion of numbers).
public struct LuaCall {
    public let L: OpaquePointer
    let function: LuaFunction

    public var name: String { function.name }
    /// Number of arguments.
    public var count: Int32 { lua_gettop(L) }

    public func error(_ message: String) -> LuaError { LuaError("\(name): \(message)") }

    /// The type of the value at `i` as users think of it ("tensor", "number", …).
    public func typeName(_ i: Int32) -> String {
        if lp_to_tensor(L, i) != nil { return "tensor" }
        if lua_type(L, i) == LUA_TNONE { return "no value" }
        return String(cString: lp_typename_at(L, i))
    }

    public func isNil(_ i: Int32) -> Bool { lp_isnoneornil(L, i) != 0 }

    /// Fails unless the argument count lies in min...max.
    public func arity(_ min: Int32, _ max: Int32) throws {
        let n = count
        if n < min || n > max {
            let want = min == max ? "\(min)" : "\(min) to \(max)"
            throw error("expected \(want) argument\(max == 1 ? "" : "s"), got \(n)")
        }
    }

    // MARK: Reading arguments

    public func tensor(_ i: Int32, _ what: String = "a tensor") throws -> Tensor {
        guard let p = lp_to_tensor(L, i) else { throw error("expected \(what), got \(typeName(i))") }
        return Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
    }

    public func optTensor(_ i: Int32) -> Tensor? {
        lp_to_tensor(L, i).map { Unmanaged<Tensor>.fromOpaque($0).takeUnretainedValue() }
    }

    public func number(_ i: Int32, _ what: String) throws -> Double {
        guard lua_type(L, i) == LUA_TNUMBER else { throw error("expected \(what) to be a number, got \(typeName(i))") }
        return lp_tonumber(L, i)
    }

    public func optNumber(_ i: Int32, _ what: String) throws -> Double? {
        isNil(i) ? nil : try number(i, what)
    }

    public func int(_ i: Int32, _ what: String) throws -> Int {
        guard lua_type(L, i) == LUA_TNUMBER else { throw error("expected \(what) to be an integer, got \(typeName(i))") }
        if lp_isinteger(L, i) != 0 { return Int(lp_tointeger(L, i)) }
        let v = lp_tonumber(L, i)
        guard v == v.rounded(), abs(v) < 9e15 else { throw error("expected \(what) to be an integer, got \(v)") }
        return Int(v)
    }

    public func optInt(_ i: Int32, _ what: String) throws -> Int? { isNil(i) ? nil : try int(i, what) }

    public func bool(_ i: Int32, _ what: String, default value: Bool) throws -> Bool {
        if isNil(i) { return value }
        guard lua_type(L, i) == LUA_TBOOLEAN else { throw error("expected \(what) to be a boolean, got \(typeName(i))") }
        return lua_toboolean(L, i) != 0
    }

    public func string(_ i: Int32, _ what: String) throws -> String {
        guard lua_type(L, i) == LUA_TSTRING else { throw error("expected \(what) to be a string, got \(typeName(i))") }
        return String(cString: lp_tostring(L, i))
    }

    /// A tensor argument, or a number as a 0-d tensor.
    public func operand(_ i: Int32, _ what: String = "other") throws -> Tensor {
        if let t = optTensor(i) { return t }
        if lua_type(L, i) == LUA_TNUMBER { return Tensor(scalar: Float(lp_tonumber(L, i))) }
        throw error("expected \(what) to be a tensor or a number, got \(typeName(i))")
    }

    /// A 1-based Lua dimension (negative counts from the end) as a 0-based one.
    public func dim(_ i: Int32, rank: Int, _ what: String = "dim") throws -> Int {
        let d = try int(i, what)
        return try LuaCall.zeroBased(d, size: Swift.max(rank, 1), what: what, of: "a \(rank)-d tensor", call: self)
    }

    public func optDim(_ i: Int32, rank: Int, _ what: String = "dim") throws -> Int? {
        isNil(i) ? nil : try dim(i, rank: rank, what)
    }

    /// A 1-based index (negative counts from the end) into a dimension of `size`.
    public func index(_ i: Int32, size: Int, _ what: String) throws -> Int {
        try LuaCall.zeroBased(try int(i, "index"), size: size, what: "index", of: what, call: self)
    }

    static func zeroBased(_ v: Int, size: Int, what: String, of context: String, call: LuaCall) throws -> Int {
        if v >= 1 && v <= size { return v - 1 }
        if v <= -1 && v >= -size { return size + v }
        let range = size == 0 ? "none: it is empty" : "1..\(size) or -\(size)..-1"
        throw call.error("\(what) \(v) is out of range for \(context) (valid: \(range))")
    }

    /// Sizes given as arguments `from`… (`zeros(2, 3)`) or as one table (`zeros({2, 3})`).
    public func shape(from i: Int32, what: String = "size") throws -> [Int] {
        if lua_type(L, i) == LUA_TTABLE { return try intList(i, what) }
        guard i <= count else { throw error("expected sizes, got no arguments") }
        return try (i...count).map { try int($0, "\(what) \($0 - i + 1)") }
    }

    /// A Lua sequence of integers.
    public func intList(_ i: Int32, _ what: String) throws -> [Int] {
        guard lua_type(L, i) == LUA_TTABLE else { throw error("expected \(what) as a table of integers, got \(typeName(i))") }
        let n = lua_rawlen(L, i)
        var out: [Int] = []
        for k in 0..<n {
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { lp_pop(L, 1) }
            out.append(try int(-1, "\(what)[\(k + 1)]"))
        }
        return out
    }

    /// A Lua sequence of numbers.
    public func numberList(_ i: Int32, _ what: String) throws -> [Double] {
        guard lua_type(L, i) == LUA_TTABLE else { throw error("expected \(what) as a number or a table of numbers, got \(typeName(i))") }
        return try (0..<lua_rawlen(L, i)).map { k in
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { lp_pop(L, 1) }
            return try number(-1, "\(what)[\(k + 1)]")
        }
    }

    /// A Lua sequence of tensors.
    public func tensorList(_ i: Int32, _ what: String = "tensors") throws -> [Tensor] {
        guard lua_type(L, i) == LUA_TTABLE else { throw error("expected \(what) as a table of tensors, got \(typeName(i))") }
        let n = lua_rawlen(L, i)
        var out: [Tensor] = []
        for k in 0..<n {
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { lp_pop(L, 1) }
            out.append(try tensor(-1, "\(what)[\(k + 1)] to be a tensor"))
        }
        return out
    }

    /// Field `key` of the options table at `i` (read raw), pushed onto the stack; returns
    /// its stack index. Pop it with `pop()` when done. Nil when the value is not a table
    /// (a raw get on anything else is undefined behaviour in Lua's C API).
    public func field(_ i: Int32, _ key: String) -> Int32 {
        if lua_type(L, i) != LUA_TTABLE { lua_pushnil(L); return lua_gettop(L) }
        lua_pushstring(L, key)
        lua_rawget(L, i < 0 ? i - 1 : i)
        return lua_gettop(L)
    }

    public func pop(_ n: Int32 = 1) { lp_pop(L, n) }

    // MARK: Pushing results

    @discardableResult
    public func push(_ t: Tensor) -> Int32 {
        pushTensor(L, t)
        return 1
    }

    @discardableResult
    public func push(_ v: Double) -> Int32 { lua_pushnumber(L, v); return 1 }
    @discardableResult
    public func push(_ v: Float) -> Int32 { lua_pushnumber(L, Double(v)); return 1 }
    @discardableResult
    public func push(int v: Int) -> Int32 { lua_pushinteger(L, lua_Integer(v)); return 1 }
    @discardableResult
    public func push(_ v: Bool) -> Int32 { lua_pushboolean(L, v ? 1 : 0); return 1 }
    @discardableResult
    public func push(_ s: String) -> Int32 { lua_pushstring(L, s); return 1 }
    @discardableResult
    public func pushNil() -> Int32 { lua_pushnil(L); return 1 }

    /// Pushes a sequence of integers as a Lua table.
    @discardableResult
    public func push(ints: [Int]) -> Int32 {
        lua_createtable(L, Int32(ints.count), 0)
        for (k, v) in ints.enumerated() {
            lua_pushinteger(L, lua_Integer(v))
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        return 1
    }

    /// Pushes a sequence of strings as a Lua table.
    @discardableResult
    public func push(strings: [String]) -> Int32 {
        lua_createtable(L, Int32(strings.count), 0)
        for (k, v) in strings.enumerated() {
            lua_pushstring(L, v)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        return 1
    }
}

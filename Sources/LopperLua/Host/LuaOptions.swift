import CLua
import LuaShim
import LopperCore

/// The options table of a call (`lp.nn.Conv2d(1, 6, 5, {padding = 2})`): typed reads, and
/// an error for any key the function does not know, so a misspelt option never passes
/// silently.
public struct LuaOptions {
    let c: LuaCall
    let index: Int32?

    /// Options at argument `i` (absent or nil means none); `known` lists the accepted keys.
    public init(_ c: LuaCall, _ i: Int32, known: [String]) throws {
        self.c = c
        if let docName = c.function.docName { LuaOptions.observer?(docName, known) }
        if c.isNil(i) { index = nil; return }
        guard lua_type(c.L, i) == LUA_TTABLE else { throw c.error("expected options as a table, got \(c.typeName(i))") }
        index = lua_absindex(c.L, i)
        lua_pushnil(c.L)
        while lua_next(c.L, index!) != 0 {
            lp_pop(c.L, 1)
            let name = lua_type(c.L, -1) == LUA_TSTRING ? String(cString: lp_tostring(c.L, -1)) : nil
            guard let name, known.contains(name) else {
                let shown = name.map { "'\($0)'" } ?? "key of type \(c.typeName(-1))"
                lp_pop(c.L, 1)
                throw c.error("unknown option \(shown) (known: \(known.sorted().joined(separator: ", "))\(LuaOptions.helpHint(c)))")
            }
        }
    }

    /// Told the documented name of each function that reads options, and the keys it
    /// accepts: the documentation tests compare them with the documented options.
    nonisolated(unsafe) static var observer: ((String, [String]) -> Void)?

    /// `; see help(lp.prune.prune)`, for messages about options.
    static func helpHint(_ c: LuaCall) -> String {
        guard let n = c.function.docName else { return "" }
        return n.hasPrefix("lp.") ? "; see help(\(n))" : "; see help(\"\(n)\")"
    }

    /// Reads field `key` with `read` while it sits on the stack; nil when absent.
    public func get<V>(_ key: String, _ read: (Int32) throws -> V) throws -> V? {
        guard let index else { return nil }
        let f = c.field(index, key)
        defer { c.pop() }
        return c.isNil(f) ? nil : try read(f)
    }

    public func number(_ key: String) throws -> Double? { try get(key) { try c.number($0, key) } }
    public func float(_ key: String) throws -> Float? { try number(key).map(Float.init) }
    public func int(_ key: String) throws -> Int? { try get(key) { try c.int($0, key) } }
    public func bool(_ key: String) throws -> Bool? { try get(key) { try c.bool($0, key, default: false) } }
    public func string(_ key: String) throws -> String? { try get(key) { try c.string($0, key) } }
    public func tensor(_ key: String) throws -> Tensor? { try get(key) { try c.tensor($0, "\(key) to be a tensor") } }

    /// A size given as one integer or as {h, w}.
    public func pair(_ key: String) throws -> (Int, Int)? {
        try get(key) { try c.pair($0, key) }
    }
}

extension LuaCall {
    /// One integer n meaning (n, n), or a table {h, w}.
    public func pair(_ i: Int32, _ what: String) throws -> (Int, Int) {
        if lua_type(L, i) == LUA_TTABLE {
            let v = try intList(i, what)
            guard v.count == 2 else { throw error("expected \(what) as one integer or {h, w}, got a table of \(v.count)") }
            return (v[0], v[1])
        }
        let n = try int(i, what)
        return (n, n)
    }
}

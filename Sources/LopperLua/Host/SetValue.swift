import CLua
import Foundation

/// A typed `--set key=value` value: `5` and `1.2e-3` are numbers, `true`/`false`
/// booleans, `[20, 10]` a list, `"text"` or a bare word a string.
public enum SetValue: Equatable, CustomStringConvertible {
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case string(String)
    case list([SetValue])

    /// Parses `key=value`; the error says what form was expected.
    public static func parseAssignment(_ text: String) throws -> (String, SetValue) {
        guard let eq = text.firstIndex(of: "=") else {
            throw LuaError("--set: expected key=value, got '\(text)'")
        }
        let key = String(text[..<eq]), raw = String(text[text.index(after: eq)...])
        let validKey = key.first.map { $0.isLetter || $0 == "_" } == true
            && key.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
        guard validKey else {
            throw LuaError("--set: key '\(key)' in '\(text)' must be a name (letters, digits, _; not starting with a digit)")
        }
        do {
            return (key, try parse(raw))
        } catch let e as LuaError {
            throw LuaError("--set \(key): \(e.message)")
        }
    }

    /// Parses a value.
    public static func parse(_ raw: String) throws -> SetValue {
        let s = raw.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { throw LuaError("empty value; write key=value, e.g. rounds=5") }
        if s.hasPrefix("[") {
            guard s.hasSuffix("]") else { throw LuaError("list '\(s)' is missing its closing ]") }
            let inner = s.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            if inner.isEmpty { return .list([]) }
            let items = try inner.split(separator: ",", omittingEmptySubsequences: false).map { item -> SetValue in
                let v = try parse(String(item))
                if case .list = v { throw LuaError("lists cannot be nested, got '\(s)'") }
                return v
            }
            return .list(items)
        }
        if let q = s.first, q == "\"" || q == "'" {
            guard s.count >= 2, s.last == q else { throw LuaError("string \(s) is missing its closing \(q)") }
            return .string(String(s.dropFirst().dropLast()))
        }
        if s == "true" { return .boolean(true) }
        if s == "false" { return .boolean(false) }
        if let i = Int(s) { return .integer(i) }
        let digits = s.hasPrefix("-") || s.hasPrefix("+") ? s.dropFirst() : Substring(s)
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw LuaError("integer \(s) does not fit 64 bits (-2^63 … 2^63-1)")
        }
        if let d = Double(s), d.isFinite { return .number(d) }
        if let bad = s.first(where: { "[]{}(),\"'".contains($0) }) {
            throw LuaError("unknown value form '\(s)' (character \(bad)); write a number, true/false, a word, \"a string\" or a list [1,2,3]")
        }
        return .string(s)
    }

    /// Pushes the value as a Lua value (lists as sequences).
    func push(_ L: OpaquePointer) {
        switch self {
        case .integer(let i): lua_pushinteger(L, lua_Integer(i))
        case .number(let d): lua_pushnumber(L, d)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .string(let s): lua_pushstring(L, s)
        case .list(let items):
            lua_createtable(L, Int32(items.count), 0)
            for (i, v) in items.enumerated() {
                v.push(L)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
        }
    }

    public var description: String {
        switch self {
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .boolean(let b): return String(b)
        case .string(let s): return "\"\(s)\""
        case .list(let items): return "[" + items.map(\.description).joined(separator: ",") + "]"
        }
    }
}

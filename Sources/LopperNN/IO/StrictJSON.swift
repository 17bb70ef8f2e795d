import Foundation

/// A strict JSON reader for file headers (RFC 8259 and nothing more): duplicate keys,
/// trailing commas, leading zeros, bare words and trailing bytes are errors, and integers
/// stay exact (`-0.0` or `1e3` is not an integer). Foundation's parser accepts some of
/// these, and a header read loosely is a polyglot file waiting to happen.
public enum StrictJSON: Equatable {
    case null, bool(Bool), integer(Int), number(Double), string(String)
    case array([StrictJSON]), object([(String, StrictJSON)])

    public static func == (a: StrictJSON, b: StrictJSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Parses `bytes` whole; trailing spaces (safetensors pads its header with them) pass.
    public static func parse(_ bytes: [UInt8]) throws -> StrictJSON {
        var p = Parser(b: bytes)
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw p.fail("unexpected bytes after the value") }
        return v
    }

    public var integer: Int? { if case .integer(let v) = self { return v }; return nil }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var array: [StrictJSON]? { if case .array(let a) = self { return a }; return nil }
    public var object: [(String, StrictJSON)]? { if case .object(let o) = self { return o }; return nil }
    public subscript(key: String) -> StrictJSON? { object?.first { $0.0 == key }?.1 }

    struct Parser {
        let b: [UInt8]
        var i = 0

        func fail(_ why: String) -> StrictJSONError { StrictJSONError("\(why) at byte \(i)") }

        mutating func skipSpace() {
            while i < b.count, [0x20, 0x09, 0x0A, 0x0D].contains(b[i]) { i += 1 }
        }

        mutating func value(depth: Int) throws -> StrictJSON {
            guard depth < 64 else { throw fail("nesting deeper than 64") }
            skipSpace()
            guard i < b.count else { throw fail("unexpected end") }
            switch b[i] {
            case UInt8(ascii: "{"): return try object(depth)
            case UInt8(ascii: "["): return try array(depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            default: return try number()
            }
        }

        mutating func word(_ w: String) throws {
            let u = Array(w.utf8)
            guard i + u.count <= b.count, Array(b[i..<i + u.count]) == u else { throw fail("unexpected character") }
            i += u.count
        }

        mutating func object(_ depth: Int) throws -> StrictJSON {
            i += 1
            var out: [(String, StrictJSON)] = [], seen = Set<String>()
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try string()
                guard seen.insert(key).inserted else { throw fail("duplicate key \"\(key)\"") }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                out.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard i < b.count else { throw fail("unexpected end in an object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func array(_ depth: Int) throws -> StrictJSON {
            i += 1
            var out: [StrictJSON] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
            while true {
                out.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("unexpected end in an array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
                throw fail("expected ',' or ']'")
            }
        }

        mutating func string() throws -> String {
            i += 1
            var out: [UInt8] = []
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    guard let s = String(validating: out, as: UTF8.self) else { throw fail("a string is not UTF-8") }
                    return s
                }
                guard c >= 0x20 else { throw fail("a control character in a string") }
                if c == UInt8(ascii: "\\") {
                    guard i + 1 < b.count else { break }
                    let e = b[i + 1]
                    i += 2
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<i + 4], as: UTF8.self), radix: 16) else {
                            throw fail("a bad \\u escape")
                        }
                        i += 4
                        // Surrogate halves alone are not characters: refused, not replaced.
                        guard let scalar = Unicode.Scalar(v) else { throw fail("a \\u escape that is not a character") }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: throw fail("an unknown escape")
                    }
                    continue
                }
                out.append(c)
                i += 1
            }
            throw fail("an unterminated string")
        }

        mutating func number() throws -> StrictJSON {
            let start = i
            if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
            let digits = { (p: inout Parser) -> Int in
                let s = p.i
                while p.i < p.b.count, p.b[p.i] >= 0x30, p.b[p.i] <= 0x39 { p.i += 1 }
                return p.i - s
            }
            let intStart = i
            let n = digits(&self)
            guard n > 0 else { throw fail("unexpected character") }
            guard !(n > 1 && b[intStart] == 0x30) else { throw fail("a number with a leading zero") }
            var isInteger = true
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1; isInteger = false
                guard digits(&self) > 0 else { throw fail("a number without digits after '.'") }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1; isInteger = false
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                guard digits(&self) > 0 else { throw fail("a number without exponent digits") }
            }
            let text = String(decoding: b[start..<i], as: UTF8.self)
            if isInteger {
                guard let v = Int(text) else { throw fail("integer \(text) does not fit 64 bits") }
                return .integer(v)
            }
            guard let d = Double(text), d.isFinite else { throw fail("number \(text) is out of range") }
            return .number(d)
        }
    }
}

public struct StrictJSONError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

import Foundation

/// A JSON value as the run folder's files hold it (written by the Lua side of `lp`).
public enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Parses one JSON text; `source` names it in the error.
    public static func parse(_ data: Data, source: String) throws -> JSONValue {
        do { return try JSONDecoder().decode(JSONValue.self, from: data) }
        catch { throw ReportError("\(source) is not valid JSON") }
    }

    public var number: Double? { if case .number(let d) = self { return d }; return nil }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public subscript(key: String) -> JSONValue? { object?[key] }

    /// The value as a person reads it: integers without a fraction, lists in brackets.
    public var text: String {
        switch self {
        case .null: return "nil"
        case .bool(let b): return String(b)
        case .number(let d): return Self.format(d)
        case .string(let s): return s
        case .array(let a): return "[" + a.map { $0.text }.joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0) = \(o[$0]!.text)" }.joined(separator: ", ") + "}"
        }
    }

    /// Numbers in short form: 12, 0.0012, 1.5e+06.
    public static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(format: "%.6g", d)
    }
}

public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

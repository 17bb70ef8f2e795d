import Foundation
import LopperCore

/// NumPy's .npy format (version 1.0–3.0): magic, a Python-dict header giving descr,
/// fortran_order and shape, then the data. Lopper writes little-endian float32 ('<f4');
/// it reads <f4, <f8, <i8, <i4, <i2, |i1, |u1 and |b1 in C order.
public enum Npy {
    public static func encode(_ t: Tensor) -> Data {
        let shape = t.shape.isEmpty ? "()" : t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        t.toArray().withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    public static func save(_ path: String, _ t: Tensor) throws {
        try AtomicFile.write(encode(t), to: path, op: "save_npy")
    }

    public static func load(_ path: String) throws -> Tensor {
        try decode(try AtomicFile.read(path, op: "load_npy"), source: path)
    }

    static let types: [String: (String, Int)] = [
        "<f4": ("F32", 4), "<f8": ("F64", 8), "<i8": ("I64", 8), "<i4": ("I32", 4), "<i2": ("I16", 2),
        "|i1": ("I8", 1), "|u1": ("U8", 1), "|b1": ("BOOL", 1), "<f2": ("F16", 2),
    ]

    public static func decode(_ data: Data, source: String) throws -> Tensor {
        func bad(_ why: String) -> TensorError { TensorError("load_npy: \(source) is not a valid .npy file: \(why)") }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else { throw bad("the magic string is missing") }
        let major = bytes[6]
        let (lengthSize, start) = major == 1 ? (2, 8) : (4, 8)
        guard major >= 1 && major <= 3 else { throw bad("unknown version \(major)") }
        guard data.count >= start + lengthSize else { throw bad("the header is cut short") }
        var length = 0
        for k in 0..<lengthSize { length |= Int(data[data.startIndex + start + k]) << (8 * k) }
        let dataStart = start + lengthSize + length
        guard length <= 1 << 24, dataStart <= data.count, let header = String(data: data.subdata(in: (start + lengthSize)..<dataStart), encoding: .utf8) else {
            throw bad("the header is cut short")
        }
        let fields: [String: NpyHeader.Value]
        do { fields = try NpyHeader.parse(header) } catch let e as NpyHeader.Failure { throw bad("the header \(e.why)") }
        guard Set(fields.keys) == ["descr", "fortran_order", "shape"] else {
            throw bad("the header must have exactly the keys descr, fortran_order and shape, got \(fields.keys.sorted().joined(separator: ", "))")
        }
        guard case .string(let descr)? = fields["descr"] else { throw bad("descr is not a string") }
        guard let (dtype, size) = types[descr] else {
            throw bad("dtype \(descr) is not supported (known: \(types.keys.sorted().joined(separator: ", ")))")
        }
        guard case .bool(let fortran)? = fields["fortran_order"] else { throw bad("fortran_order is not True or False") }
        if fortran { throw bad("Fortran-ordered arrays are not supported; save with np.ascontiguousarray") }
        guard case .tuple(let shape)? = fields["shape"] else { throw bad("shape is not a tuple of sizes") }
        let count: Int
        do { count = try Shape.checkedCount(shape, op: "load_npy") } catch { throw bad("shape \(describeShape(shape)) has more elements than any tensor can hold") }
        let (needed, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, data.count - dataStart == needed else {
            throw bad("shape \(describeShape(shape)) of \(descr) needs \(overflow ? "more than 2^63" : String(needed)) bytes of data, the file has \(data.count - dataStart)")
        }
        let t = try Tensor(shape: shape)
        data.withUnsafeBytes { raw in Safetensors.convert(raw.baseAddress! + dataStart, dtype: dtype, count: count, into: t.data) }
        return t
    }
}

/// The header of a .npy file: a Python dict literal of strings, booleans and tuples of
/// integers (`{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`), read by a
/// small tokenizer rather than by searching for substrings.
enum NpyHeader {
    enum Value: Equatable { case string(String), bool(Bool), tuple([Int]) }
    struct Failure: Error { let why: String }

    static func parse(_ text: String) throws -> [String: Value] {
        var s = Substring(text)
        func fail(_ why: String) -> Failure { Failure(why: why) }
        func space() { while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() } }
        func expect(_ c: Character) throws {
            space()
            guard s.first == c else { throw fail("expected '\(c)' before \"\(s.prefix(12))\"") }
            s.removeFirst()
        }
        func string() throws -> String {
            space()
            guard let q = s.first, q == "'" || q == "\"" else { throw fail("expected a quoted string") }
            s.removeFirst()
            guard let end = s.firstIndex(of: q) else { throw fail("has an unterminated string") }
            let v = String(s[..<end])
            s = s[s.index(after: end)...]
            return v
        }
        func integer() throws -> Int {
            space()
            let digits = s.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let v = Int(digits) else { throw fail("has a shape entry that is not a size") }
            s = s.dropFirst(digits.count)
            space()
            if s.hasPrefix("L") { s.removeFirst() }  // Python 2 longs
            return v
        }
        func value() throws -> Value {
            space()
            if s.hasPrefix("True") { s = s.dropFirst(4); return .bool(true) }
            if s.hasPrefix("False") { s = s.dropFirst(5); return .bool(false) }
            if s.first == "'" || s.first == "\"" { return .string(try string()) }
            try expect("(")
            var dims: [Int] = []
            space()
            if s.first == ")" { s.removeFirst(); return .tuple(dims) }
            while true {
                dims.append(try integer())
                space()
                if s.first == ")" { s.removeFirst(); break }
                try expect(",")
                space()
                if s.first == ")" { s.removeFirst(); break }
            }
            // (3) is the number 3 in Python, not a tuple.
            return .tuple(dims)
        }
        try expect("{")
        var out: [String: Value] = [:]
        while true {
            space()
            if s.first == "}" { s.removeFirst(); break }
            let key = try string()
            guard out[key] == nil else { throw fail("repeats the key \(key)") }
            try expect(":")
            out[key] = try value()
            space()
            if s.first == "," { s.removeFirst(); continue }
            try expect("}")
            break
        }
        space()
        guard s.isEmpty else { throw fail("has text after the dict") }
        return out
    }
}

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
        guard major >= 1 && major <= 3, data.count >= start + lengthSize else { throw bad("unknown version \(major)") }
        var length = 0
        for k in 0..<lengthSize { length |= Int(data[data.startIndex + start + k]) << (8 * k) }
        let dataStart = start + lengthSize + length
        guard dataStart <= data.count, let header = String(data: data.subdata(in: (start + lengthSize)..<dataStart), encoding: .utf8) else {
            throw bad("the header is cut short")
        }
        func value(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let d = value("descr"), d.hasPrefix("'"), let end = d.dropFirst().firstIndex(of: "'") else { throw bad("no descr in the header") }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        guard let (dtype, size) = types[descr] else {
            throw bad("dtype \(descr) is not supported (known: \(types.keys.sorted().joined(separator: ", ")))")
        }
        if let f = value("fortran_order"), f.hasPrefix("True") { throw bad("Fortran-ordered arrays are not supported; save with np.ascontiguousarray") }
        guard let s = value("shape"), s.hasPrefix("("), let close = s.firstIndex(of: ")") else { throw bad("no shape in the header") }
        let dims = s[s.index(after: s.startIndex)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try dims.map { (x: String) -> Int in
            guard let v = Int(x), v >= 0 else { throw bad("shape entry \(x) is not a size") }
            return v
        }
        let count = Shape.count(shape)
        guard data.count - dataStart == count * size else {
            throw bad("shape \(describeShape(shape)) of \(descr) needs \(count * size) bytes of data, the file has \(data.count - dataStart)")
        }
        let t = try Tensor(shape: shape)
        data.withUnsafeBytes { raw in Safetensors.convert(raw.baseAddress! + dataStart, dtype: dtype, count: count, into: t.data) }
        return t
    }
}

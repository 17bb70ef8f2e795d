import Foundation
import LopperCore

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
/// header mapping each name to {dtype, shape, data_offsets} plus an optional string map
/// "__metadata__", then the raw little-endian data. Lopper writes F32 (and I64 where
/// PyTorch keeps integers, e.g. num_batches_tracked); it reads F32, F64, F16, BF16, I64,
/// I32, I16, I8, U8 and BOOL, converting to Float32.
public enum Safetensors {
    public struct Entry {
        public var name: String
        public var tensor: Tensor
        /// Stored as int64 (for PyTorch's integer buffers).
        public var asInt64 = false
        public init(_ name: String, _ tensor: Tensor, asInt64: Bool = false) {
            self.name = name
            self.tensor = tensor
            self.asInt64 = asInt64
        }
    }

    /// The file's bytes for `entries` and string `metadata`.
    public static func encode(_ entries: [Entry], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        var seen = Set<String>()
        for e in entries {
            guard seen.insert(e.name).inserted else { throw TensorError("save: the name \(e.name) appears twice") }
            guard e.name != "__metadata__" else { throw TensorError("save: __metadata__ is reserved") }
            let bytes = e.tensor.count * (e.asInt64 ? 8 : 4)
            header[e.name] = ["dtype": e.asInt64 ? "I64" : "F32", "shape": e.tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for e in entries {
            let values = e.tensor.toArray()
            if e.asInt64 {
                for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { out.append(contentsOf: $0) } }
            } else {
                values.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes atomically.
    public static func save(_ path: String, _ entries: [Entry], metadata: [String: String] = [:]) throws {
        try AtomicFile.write(try encode(entries, metadata: metadata), to: path, op: "save")
    }

    /// Tensors in file order of their data, and the metadata.
    public static func load(_ path: String) throws -> (tensors: [(String, Tensor)], metadata: [String: String]) {
        try decode(try AtomicFile.read(path, op: "load"), source: path)
    }

    static let sizes: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    public static func decode(_ data: Data, source: String) throws -> (tensors: [(String, Tensor)], metadata: [String: String]) {
        func bad(_ why: String) -> TensorError { TensorError("load: \(source) is not a valid safetensors file: \(why)") }
        guard data.count >= 8 else { throw bad("it has \(data.count) bytes, fewer than the 8-byte header length") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8) else { throw bad("the header claims \(n) bytes but the file has \(data.count - 8) after the length") }
        let headerEnd = 8 + Int(n)
        guard let parsed = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)),
              let header = parsed as? [String: Any] else { throw bad("the header is not a JSON object") }
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let strings = m as? [String: String] else { throw bad("__metadata__ must map strings to strings") }
            metadata = strings
        }
        let payload = data.count - headerEnd
        var out: [(String, Tensor, Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw bad("entry \(name) lacks dtype, shape or data_offsets")
            }
            guard let size = sizes[dtype] else { throw bad("\(name) has dtype \(dtype), which Lopper cannot read (known: \(sizes.keys.sorted().joined(separator: ", ")))") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("\(name) has a negative size in \(describeShape(shape))") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= payload else {
                throw bad("\(name) claims bytes \(begin)..<\(end) but the data section has \(payload) bytes")
            }
            let count = Shape.count(shape)
            guard end - begin == count * size else {
                throw bad("\(name) of shape \(describeShape(shape)) and dtype \(dtype) needs \(count * size) bytes, the file gives \(end - begin)")
            }
            let t = try Tensor(shape: shape)
            data.withUnsafeBytes { raw in
                let p = raw.baseAddress! + headerEnd + begin
                convert(p, dtype: dtype, count: count, into: t.data)
            }
            out.append((name, t, begin))
        }
        return (out.sorted { $0.2 < $1.2 || ($0.2 == $1.2 && $0.0 < $1.0) }.map { ($0.0, $0.1) }, metadata)
    }

    /// Little-endian values of `dtype` to Float32.
    static func convert(_ p: UnsafeRawPointer, dtype: String, count: Int, into o: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            switch dtype {
            case "F32": o[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            case "F64": o[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            case "F16": o[i] = Float(halfBits: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            case "BF16": o[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            case "I64": o[i] = Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
            case "I32": o[i] = Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            case "I16": o[i] = Float(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
            case "I8": o[i] = Float(p.load(fromByteOffset: i, as: Int8.self))
            default: o[i] = Float(p.load(fromByteOffset: i, as: UInt8.self))   // U8, BOOL
            }
        }
    }
}

extension Float {
    /// An IEEE half-precision value from its bits.
    init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16, exp = Int((h >> 10) & 0x1f), frac = UInt32(h & 0x3ff)
        if exp == 0 {
            let v = Float(frac) * 0x1p-24
            self = sign != 0 ? -v : v
        } else if exp == 31 {
            self = Float(bitPattern: sign | 0x7f80_0000 | (frac << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exp + 112) << 23 | (frac << 13))
        }
    }
}

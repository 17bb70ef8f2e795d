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

    /// Reads a file strictly, as the format's reference implementation does: the header is
    /// one JSON object with no duplicate names, every size and span is checked with overflow
    /// detection, and the spans tile the data section exactly (no overlaps, no holes, no
    /// bytes outside any tensor).
    public static func decode(_ data: Data, source: String) throws -> (tensors: [(String, Tensor)], metadata: [String: String]) {
        func bad(_ why: String) -> TensorError { TensorError("load: \(source) is not a valid safetensors file: \(why)") }
        guard data.count >= 8 else { throw bad("it has \(data.count) bytes, fewer than the 8-byte header length") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8) else { throw bad("the header claims \(n) bytes but the file has \(data.count - 8) after the length") }
        let headerEnd = 8 + Int(n)
        let headerBytes = [UInt8](data[(data.startIndex + 8)..<(data.startIndex + headerEnd)])
        guard headerBytes.first == UInt8(ascii: "{") else { throw bad("the header does not start with '{'") }
        let header: [(String, StrictJSON)]
        do {
            guard let o = try StrictJSON.parse(headerBytes).object else { throw bad("the header is not a JSON object") }
            header = o
        } catch let e as StrictJSONError { throw bad("the header is not valid JSON: \(e.description)") }
        var metadata: [String: String] = [:]
        let payload = data.count - headerEnd
        var spans: [(name: String, begin: Int, end: Int, dtype: String, shape: [Int])] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let pairs = value.object else { throw bad("__metadata__ must map strings to strings") }
                for (k, v) in pairs {
                    guard let text = v.string else { throw bad("__metadata__ must map strings to strings (\(k) is not a string)") }
                    metadata[k] = text
                }
                continue
            }
            guard let info = value.object else { throw bad("entry \(name) is not an object") }
            if let extra = info.first(where: { !["dtype", "shape", "data_offsets"].contains($0.0) }) {
                throw bad("entry \(name) has an unknown field \(extra.0)")
            }
            guard let dtype = value["dtype"]?.string, let dims = value["shape"]?.array, let offs = value["data_offsets"]?.array else {
                throw bad("entry \(name) lacks dtype, shape or data_offsets")
            }
            guard let size = sizes[dtype] else { throw bad("\(name) has dtype \(dtype), which Lopper cannot read (known: \(sizes.keys.sorted().joined(separator: ", ")))") }
            let shape = dims.compactMap { $0.integer }
            guard shape.count == dims.count else { throw bad("\(name) has a shape entry that is not an integer") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("\(name) has a negative size in \(describeShape(shape))") }
            let offsets = offs.compactMap { $0.integer }
            guard offsets.count == 2, offs.count == 2 else { throw bad("\(name) needs data_offsets as two integers") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= payload else {
                throw bad("\(name) claims bytes \(begin)..<\(end) but the data section has \(payload) bytes")
            }
            let count: Int
            do { count = try Shape.checkedCount(shape, op: "load") } catch { throw bad("\(name) has shape \(describeShape(shape)), more elements than any tensor can hold") }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, end - begin == bytes else {
                throw bad("\(name) of shape \(describeShape(shape)) and dtype \(dtype) needs \(overflow ? "more than 2^63" : String(bytes)) bytes, the file gives \(end - begin)")
            }
            spans.append((name, begin, end, dtype, shape))
        }
        spans.sort { $0.begin < $1.begin || ($0.begin == $1.begin && $0.end < $1.end) }
        var covered = 0
        for s in spans {
            guard s.begin == covered else {
                throw bad(s.begin < covered ? "\(s.name)'s bytes \(s.begin)..<\(s.end) overlap another tensor's" : "bytes \(covered)..<\(s.begin) belong to no tensor")
            }
            covered = s.end
        }
        guard covered == payload else { throw bad("bytes \(covered)..<\(payload) at the end belong to no tensor") }
        var out: [(String, Tensor)] = []
        for s in spans {
            let t = try Tensor(shape: s.shape)
            data.withUnsafeBytes { raw in
                convert(raw.baseAddress! + headerEnd + s.begin, dtype: s.dtype, count: t.count, into: t.data)
            }
            out.append((s.name, t))
        }
        return (out, metadata)
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

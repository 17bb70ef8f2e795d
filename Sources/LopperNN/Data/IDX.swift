import Foundation
import LopperCore

/// IDX files (the MNIST format), plain or gzip-compressed: a magic number whose third
/// byte is the element type (0x08 = unsigned byte) and fourth the number of dimensions,
/// the dimensions as big-endian 32-bit integers, then the data.
public struct IDXFile {
    public let shape: [Int]
    public let bytes: [UInt8]

    public static func read(path: String) throws -> IDXFile {
        try FilePolicy.check(path, write: false, op: "idx")
        guard let raw = FileManager.default.contents(atPath: path) else {
            throw TensorError("idx: cannot read '\(path)': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
        }
        guard Gzip.isCompressed(raw) else { return try parse(raw, name: path) }
        // The header says how many bytes follow: decompress no more than that (plus one,
        // to see that nothing follows), so a small file cannot expand without bound.
        let head = try Gzip.decompress(raw, name: path, limit: 4 + 4 * 255, prefix: true)
        let (_, expected, start) = try header([UInt8](head), name: path)
        return try parse(try Gzip.decompress(raw, name: path, limit: start + expected), name: path)
    }

    public static func parse(_ data: Data, name: String) throws -> IDXFile {
        let b = [UInt8](data)
        let (shape, expected, start) = try header(b, name: name)
        guard b.count - start == expected else {
            throw TensorError("idx: '\(name)' declares shape \(describeShape(shape)) (\(expected) bytes) but holds \(b.count - start)")
        }
        return IDXFile(shape: shape, bytes: Array(b[start...]))
    }

    /// The declared shape, its byte count (checked against overflow and the memory
    /// budget) and where the data starts.
    static func header(_ b: [UInt8], name: String) throws -> (shape: [Int], bytes: Int, start: Int) {
        guard b.count >= 4, b[0] == 0, b[1] == 0 else {
            throw TensorError("idx: '\(name)' does not start with an IDX magic number")
        }
        guard b[2] == 0x08 else {
            throw TensorError("idx: '\(name)' holds element type 0x\(String(b[2], radix: 16)); only unsigned bytes (0x08) are supported")
        }
        let rank = Int(b[3])
        guard rank >= 1, b.count >= 4 + 4 * rank else {
            throw TensorError("idx: '\(name)' is truncated in its header (\(b.count) bytes)")
        }
        let shape = (0..<rank).map { d in (0..<4).reduce(0) { $0 << 8 | Int(b[4 + 4 * d + $1]) } }
        let expected: Int
        do {
            expected = try Shape.checkedCount(shape, op: "idx")
            try MemoryBudget.checkShape(shape, op: "idx")
        } catch let e as TensorError {
            throw TensorError("idx: '\(name)' declares shape \(describeShape(shape)): \(e.message.dropFirst(5))")
        }
        return (shape, expected, 4 + 4 * rank)
    }
}

import Foundation
import LopperCore

/// IDX files (the MNIST format), plain or gzip-compressed: a magic number whose third
/// byte is the element type (0x08 = unsigned byte) and fourth the number of dimensions,
/// the dimensions as big-endian 32-bit integers, then the data.
public struct IDXFile {
    public let shape: [Int]
    public let bytes: [UInt8]

    public static func read(path: String) throws -> IDXFile {
        guard let raw = FileManager.default.contents(atPath: path) else {
            throw TensorError("idx: cannot read '\(path)': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
        }
        let data = Gzip.isCompressed(raw) ? try Gzip.decompress(raw, name: path) : raw
        return try parse(data, name: path)
    }

    public static func parse(_ data: Data, name: String) throws -> IDXFile {
        let b = [UInt8](data)
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
        let expected = shape.reduce(1, *), start = 4 + 4 * rank
        guard b.count - start == expected else {
            throw TensorError("idx: '\(name)' declares shape \(describeShape(shape)) (\(expected) bytes) but holds \(b.count - start)")
        }
        return IDXFile(shape: shape, bytes: Array(b[start...]))
    }
}

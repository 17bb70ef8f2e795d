import CZlib
import Foundation
import LopperCore

/// gzip decompression through zlib.
enum Gzip {
    static func isCompressed(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B }

    /// The decompressed bytes, at most `limit` of them: past it, with `prefix` the first
    /// `limit` bytes are returned, else it is an error (a small file can declare gigabytes).
    /// Bytes after the end of the gzip stream are an error too.
    static func decompress(_ data: Data, name: String, limit: Int = Int.max, prefix: Bool = false) throws -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw TensorError("gzip: cannot start zlib for \(name)")
        }
        defer { inflateEnd(&stream) }
        var out = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var overLimit = false
        let status: Int32 = data.withUnsafeBytes { (input: UnsafeRawBufferPointer) -> Int32 in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            var status = Z_OK
            repeat {
                buffer.withUnsafeMutableBufferPointer { b in
                    stream.next_out = b.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    let got = chunk - Int(stream.avail_out)
                    if out.count + got > limit {
                        overLimit = true
                        out.append(b.baseAddress!, count: limit - out.count)
                    } else {
                        out.append(b.baseAddress!, count: got)
                    }
                }
            } while status == Z_OK && !overLimit
            return status
        }
        if overLimit {
            if prefix { return out }
            throw TensorError("gzip: \(name) holds more than the \(limit) bytes its contents declare")
        }
        if prefix && status == Z_BUF_ERROR { return out }
        guard status == Z_STREAM_END else {
            throw TensorError("gzip: \(name) is not a complete gzip file (zlib status \(status))")
        }
        guard stream.avail_in == 0 else {
            throw TensorError("gzip: \(name) has \(stream.avail_in) bytes after the end of its gzip stream")
        }
        return out
    }
}

import Foundation
import LopperCore

/// Writes a file so that readers see either the old file or the whole new one: the bytes
/// go to a temporary file beside it, are flushed to disk, then renamed over the target.
/// A run killed mid-write leaves the previous checkpoint intact.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, op: String) throws {
        try FilePolicy.check(path, write: true, op: op)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw TensorError("\(op): folder \(dir) does not exist")
        }
        let temp = "\(path).tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw TensorError("\(op): cannot write \(temp): \(String(cString: strerror(errno)))") }
        var failure: String?
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { failure = String(cString: strerror(errno)); return }
                done += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if let failure {
            unlink(temp)
            throw TensorError("\(op): writing \(path) failed: \(failure)")
        }
        guard rename(temp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temp)
            throw TensorError("\(op): cannot move the new file to \(path): \(why)")
        }
    }

    /// The file's bytes, with an error naming the operation and the path.
    public static func read(_ path: String, op: String) throws -> Data {
        try FilePolicy.check(path, write: false, op: op)
        guard FileManager.default.fileExists(atPath: path) else { throw TensorError("\(op): no file at \(path)") }
        guard let d = FileManager.default.contents(atPath: path) else { throw TensorError("\(op): cannot read \(path)") }
        return d
    }
}

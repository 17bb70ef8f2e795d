import Foundation
import LopperCore

/// Which files a script may read and write: everything (the default), or, under
/// `lopper run --sandbox`, reads below the readable roots and writes below the writable
/// ones. Paths are resolved first (`..`, symbolic links), so neither leads out of a root.
/// Every native reader and writer asks it; the sandbox's Lua wrappers of `io`/`os` too.
public final class FilePolicy {
    /// The policy in force; nil allows everything.
    nonisolated(unsafe) public static var current: FilePolicy?

    public let readable: [String], writable: [String]

    /// `writable` roots are readable too.
    public init(readable: [String], writable: [String]) {
        self.writable = writable.map(FilePolicy.resolve)
        self.readable = (readable + writable).map(FilePolicy.resolve)
    }

    /// Fails unless `path` may be read (or written) under the current policy.
    public static func check(_ path: String, write: Bool, op: String) throws {
        guard let policy = current else { return }
        let real = resolve(path)
        let roots = write ? policy.writable : policy.readable
        guard roots.contains(where: { real == $0 || real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            let rule = write ? "writes only inside \(policy.writable.isEmpty ? "nothing (no run folder)" : policy.writable.joined(separator: ", "))"
                             : "reads only inside \(policy.readable.joined(separator: ", "))"
            throw TensorError("\(op): sandbox: \(path) is outside the allowed folders (the sandbox allows \(rule))")
        }
    }

    /// The absolute path with `.`/`..` and symbolic links resolved; a path that does not
    /// exist yet is resolved through its nearest existing parent.
    public static func resolve(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts = URL(fileURLWithPath: absolute).standardizedFileURL.path.split(separator: "/").map(String.init)
        var tail: [String] = []
        while !parts.isEmpty {
            let candidate = "/" + parts.joined(separator: "/")
            if let real = realpath(candidate, nil) {
                defer { free(real) }
                let base = String(cString: real)
                return tail.isEmpty ? base : (base == "/" ? "" : base) + "/" + tail.reversed().joined(separator: "/")
            }
            tail.append(parts.removeLast())
        }
        return "/" + tail.reversed().joined(separator: "/")
    }
}

import Foundation
import CLua
import LopperNN
import LopperReport

/// The native half of recorded runs and cached cells (the Lua half is in the preludes):
/// reports, files and folders, hashes, the clock and progress lines.
enum RunBindings {
    static let functions: [LuaFunction] = [
        LuaFunction("_render_report") { c in
            // _render_report(dir): report.html and report.md from the run folder's files.
            try c.arity(1, 1)
            do { try ReportWriter.write(run: try c.string(1, "run folder")) }
            catch let e as ReportError { throw c.error(e.description) }
            return 0
        },
        LuaFunction("_mkdir") { c in
            // _mkdir(path): creates a folder and its parents (no error if it exists).
            try c.arity(1, 1)
            let path = try c.string(1, "path")
            try FilePolicy.check(path, write: true, op: c.name)
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
            catch { throw c.error("cannot create folder \(path): \(error.localizedDescription)") }
            return 0
        },
        LuaFunction("_exists") { c in
            try c.arity(1, 1)
            let path = try c.string(1, "path")
            try FilePolicy.check(path, write: false, op: c.name)
            return c.push(FileManager.default.fileExists(atPath: path))
        },
        LuaFunction("_remove_tree") { c in
            try c.arity(1, 1)
            let path = try c.string(1, "path")
            try FilePolicy.check(path, write: true, op: c.name)
            try? FileManager.default.removeItem(atPath: path)
            return 0
        },
        LuaFunction("_hash") { c in
            // _hash(text) → FNV-1a 64-bit hash as 16 hex digits.
            try c.arity(1, 1)
            guard lua_type(c.L, 1) == LUA_TSTRING else { throw c.error("expected a string, got \(c.typeName(1))") }
            var length = 0
            let bytes = lua_tolstring(c.L, 1, &length)!
            return c.push(ContentHash.fnv1a(UnsafeRawBufferPointer(start: bytes, count: length)))
        },
        LuaFunction("_now") { c in
            try c.arity(0, 0)
            return c.push(Date().timeIntervalSince1970)
        },
        LuaFunction("_unique") { c in
            // _unique() → a name no other process (here or on another node of a shared
            // filesystem) and no other call uses: for temporary files beside shared ones.
            try c.arity(0, 0)
            return c.push(UniqueName.next())
        },
        LuaFunction("_verbose") { c in
            try c.arity(0, 0)
            return c.push(ProgressLine.mode == .verbose)
        },
        LuaFunction("progress") { c in
            // progress(label, total [, unit]) → a progress line: line:update(done [, text]), line:finish()
            try c.arity(2, 3)
            let total = try c.int(2, "total")
            guard total >= 0 else { throw c.error("expected a total of at least 0, got \(total)") }
            return progress.push(c, ProgressLine(try c.string(1, "label"), total: total, unit: c.isNil(3) ? "" : try c.string(3, "unit")))
        },
    ]

    static let progress: LuaClass<ProgressLine> = LuaClass("Progress", methods: [
        LuaFunction("update") { c in
            try c.arity(2, 3)
            let text = c.isNil(3) ? "" : try c.string(3, "text")
            try progress.check(c, 1).update(try c.int(2, "done"), text)
            return 0
        },
        LuaFunction("finish") { c in
            try c.arity(1, 1)
            try progress.check(c, 1).finish()
            return 0
        },
    ])

    static func install(_ L: OpaquePointer) { progress.install(L) }
}

/// FNV-1a, 64 bits, as 16 hex digits: enough to tell versions of a script, a cell's code
/// or its settings apart (not a cryptographic hash).
public enum ContentHash {
    public static func fnv1a(_ bytes: UnsafeRawBufferPointer) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return String(format: "%016llx", h)
    }

    public static func fnv1a(_ data: Data) -> String { data.withUnsafeBytes { fnv1a($0) } }
}

/// host.pid.counter: temporary names that concurrent runs (a sweep's points share the cell cache) never share.
enum UniqueName {
    nonisolated(unsafe) static var counter = 0
    static let prefix: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, 255) == 0 ? String(cString: buffer) : "host"
        return "\(host).\(getpid())"
    }()

    static func next() -> String {
        counter += 1
        return "\(prefix).\(counter)"
    }
}

import Foundation

/// A block of Float32 memory shared by a tensor and its views. 64-byte aligned so the
/// kernels and BLAS get full vector loads.
public final class Storage {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        var raw: UnsafeMutableRawPointer?
        if posix_memalign(&raw, 64, bytes) != 0 || raw == nil {
            // Allocation failure of tensor memory cannot be recovered from by a script.
            FileHandle.standardError.write("lopper: out of memory allocating \(bytes) bytes\n".data(using: .utf8)!)
            exit(71)
        }
        memset(raw!, 0, bytes)
        base = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        Storage.track(bytes: count * MemoryLayout<Float>.stride)
    }

    deinit {
        free(base)
        Storage.track(bytes: -count * MemoryLayout<Float>.stride)
    }

    public var bytes: Int { count * MemoryLayout<Float>.stride }

    /// Whether a garbage-collected host (the Lua state) has been told about these bytes,
    /// so that views of the same storage are not counted twice.
    public var reportedToHost = false

    private static let lock = NSLock()
    nonisolated(unsafe) private static var live = 0

    private static func track(bytes: Int) {
        lock.lock(); live += bytes; lock.unlock()
    }

    /// Bytes of tensor memory alive in this process (for memory tests and benchmarks).
    public static var liveBytes: Int {
        lock.lock(); defer { lock.unlock() }
        return live
    }
}

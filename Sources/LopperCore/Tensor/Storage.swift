import Foundation

/// A block of Float32 memory shared by a tensor and its views. 64-byte aligned so the
/// kernels and BLAS get full vector loads.
public final class Storage {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats, zero-filled unless `zeroed` is false (for results that
    /// are written in full before they are read). Fails, taking nothing, past the memory
    /// budget or when the system refuses; `shape` names the tensor in that error.
    public init(count: Int, zeroed: Bool = true, shape: [Int]? = nil) throws {
        guard count >= 0, count <= Shape.maxElements else {
            throw AllocationError("a tensor of \(count) elements cannot be allocated")
        }
        let bytes = Storage.blockBytes(count)
        try MemoryBudget.check(bytes, shape: shape)
        guard let raw = BlockCache.shared.take(bytes) ?? Storage.allocate(bytes) else {
            let what = shape.map { "a \(describeShape($0)) tensor" } ?? "a tensor"
            throw AllocationError("out of memory: the system refused \(MemoryBudget.formatBytes(bytes)) for \(what)")
        }
        self.count = count
        if zeroed { memset(raw, 0, bytes) }
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        BlockCache.shared.track(live: self.bytes)
    }

    /// A block of a few floats (a 0-d tensor) outside the budget: when the system cannot
    /// give 64 bytes, the Swift runtime itself can no longer run.
    init(few count: Int) {
        precondition(count >= 0 && count <= 16)
        self.count = count
        let bytes = Storage.blockBytes(count)
        guard let raw = BlockCache.shared.take(bytes) ?? Storage.allocate(bytes) else {
            fatalError("lopper: out of memory allocating \(bytes) bytes")
        }
        memset(raw, 0, bytes)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        BlockCache.shared.track(live: self.bytes)
    }

    deinit {
        BlockCache.shared.track(live: -bytes)
        BlockCache.shared.give(UnsafeMutableRawPointer(base), bytes: Storage.blockBytes(count))
    }

    public var bytes: Int { count * MemoryLayout<Float>.stride }

    static func blockBytes(_ count: Int) -> Int { max(count, 1) * MemoryLayout<Float>.stride }

    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, bytes) == 0 else { return nil }
        return raw
    }

    /// Bytes of tensor memory alive in this process (for memory tests and benchmarks).
    public static var liveBytes: Int { BlockCache.shared.liveBytes }
    /// The most tensor bytes alive at once since `resetPeakBytes()`.
    public static var peakBytes: Int { BlockCache.shared.peak }
    public static func resetPeakBytes() { BlockCache.shared.resetPeak() }
}

/// Freed blocks kept for reuse by size. Training allocates the same sizes every step;
/// handing them back avoids a fresh mmap and its page faults for every large result.
final class BlockCache {
    static let shared = BlockCache()
    /// Most bytes kept idle, and the largest block kept.
    let capacity = 256 << 20, largestBlock = 64 << 20

    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cached = 0
    private var live = 0

    func take(_ bytes: Int) -> UnsafeMutableRawPointer? {
        lock.lock(); defer { lock.unlock() }
        guard let p = free[bytes]?.popLast() else { return nil }
        cached -= bytes
        return p
    }

    func give(_ p: UnsafeMutableRawPointer, bytes: Int) {
        lock.lock()
        if bytes <= largestBlock && cached + bytes <= capacity {
            free[bytes, default: []].append(p)
            cached += bytes
            lock.unlock()
        } else {
            lock.unlock()
            Foundation.free(p)
        }
    }

    func track(live delta: Int) {
        lock.lock()
        live += delta
        if live > peak { peak = live }
        lock.unlock()
    }

    /// The most tensor bytes alive at once since the last `resetPeak`.
    private(set) var peak = 0
    func resetPeak() { lock.lock(); peak = live; lock.unlock() }

    var liveBytes: Int {
        lock.lock(); defer { lock.unlock() }
        return live
    }
}

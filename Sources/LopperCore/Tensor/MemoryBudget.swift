import Foundation

/// The most tensor memory a process may hold at once. Every tensor allocation is checked
/// against it before memory is taken, so a script that asks for too much gets an error it
/// can catch instead of the kernel's OOM killer or a trap.
public enum MemoryBudget {
    /// Three quarters of physical memory unless set (`--memory-limit`, `lp.set_memory_limit`).
    nonisolated(unsafe) public static var limitBytes: Int = defaultLimit

    public static var defaultLimit: Int {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        return physical / 4 * 3
    }

    /// Fails when `bytes` more tensor memory would pass the budget.
    static func check(_ bytes: Int, shape: [Int]?) throws {
        let live = Storage.liveBytes
        let (total, overflow) = live.addingReportingOverflow(bytes)
        guard overflow || total > limitBytes else { return }
        let what = shape.map { "a \(describeShape($0)) tensor" } ?? "a tensor"
        let inUse = live >= 1 << 20 ? " (\(formatBytes(live)) already in use)" : ""
        throw AllocationError("\(what) needs \(formatBytes(bytes)), more than the \(formatBytes(limitBytes)) tensor budget\(inUse)")
    }

    /// Fails unless a tensor of `shape` could be allocated now (for callers that must size
    /// other buffers before the tensor itself).
    public static func checkShape(_ shape: [Int], op: String) throws {
        let n = try Shape.checkedCount(shape, op: op)
        do { try check(Storage.blockBytes(n), shape: shape) } catch let e as AllocationError {
            throw TensorError("\(op): \(e.description)")
        }
    }

    /// "32 GiB", "512 MiB", "12 KiB", "40 bytes".
    public static func formatBytes(_ n: Int) -> String {
        let units = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, unit) in units where n >= size {
            let v = Double(n) / Double(size)
            return v >= 10 || v == v.rounded() ? "\(Int(v.rounded())) \(unit)" : String(format: "%.1f %@", v, unit)
        }
        return "\(n) bytes"
    }

    /// Parses "18G", "512M", "2GiB", "1000000" (bytes) into a byte count.
    public static func parse(_ text: String) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces).uppercased()
        let suffixes: [(String, Int)] = [("TIB", 1 << 40), ("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10),
                                         ("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10),
                                         ("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        for (suffix, scale) in suffixes where s.hasSuffix(suffix) {
            guard let v = Double(s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v > 0, v.isFinite,
                  v * Double(scale) < 9e18 else { return nil }
            return Int(v * Double(scale))
        }
        guard let v = Int(s), v > 0 else { return nil }
        return v
    }
}

/// Tensor memory could not be had: over the budget or refused by the system. Bindings
/// prefix the name of the function that was called.
public struct AllocationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

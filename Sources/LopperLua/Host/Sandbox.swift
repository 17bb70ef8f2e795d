import CLua
import LuaShim
import LopperCore
import LopperNN

/// `lopper run --sandbox`: for recipes one did not write. No programs run, no native code
/// loads, no `debug` library; files are read only below the read roots and written only
/// below the write roots (the run folder and the cell cache); the Lua heap and tensor
/// memory are capped. Each refusal is a Lua error that names the rule.
public struct Sandbox {
    public var readRoots: [String]
    public var writeRoots: [String]
    /// Most bytes of Lua heap (strings, tables): a custom allocator refuses past it.
    public var luaMemory: Int
    /// Most tensor bytes; `lp.set_memory_limit` cannot raise the budget past it.
    public var memoryCap: Int

    public init(readRoots: [String], writeRoots: [String], luaMemory: Int = 1 << 30, memoryCap: Int = MemoryBudget.defaultLimit) {
        self.readRoots = readRoots
        self.writeRoots = writeRoots
        self.luaMemory = luaMemory
        self.memoryCap = memoryCap
    }

    /// The sandbox in force (one host at a time runs sandboxed in a process).
    nonisolated(unsafe) static var current: Sandbox?

    /// Puts the file policy and the memory cap in place, then replaces the dangerous
    /// globals (after the preludes, which keep their own references to io and os).
    func apply(_ host: LuaHost) throws {
        FilePolicy.current = FilePolicy(readable: readRoots, writable: writeRoots)
        MemoryBudget.limitBytes = Swift.min(MemoryBudget.limitBytes, memoryCap)
        Sandbox.current = self
        try host.runChunk(try LuaSources.text("sandbox"), chunkName: LuaSources.chunkName("sandbox"), passing: Sandbox.check, withLp: true)
    }

    /// Lifts the policy when the sandboxed host goes.
    static func lift() {
        guard let s = current else { return }
        FilePolicy.current = nil
        current = nil
        if MemoryBudget.limitBytes == s.memoryCap { MemoryBudget.limitBytes = MemoryBudget.defaultLimit }
    }

    /// check(path, mode, function name): raises unless the policy allows it.
    static let check = LuaFunction("sandbox") { c in
        try c.arity(3, 3)
        let path = try c.string(1, "path"), mode = try c.string(2, "mode"), op = try c.string(3, "function")
        let write = mode.contains("w") || mode.contains("a") || mode.contains("+")
        do { try FilePolicy.check(path, write: write, op: op) } catch let e as TensorError { throw LuaError(e.message) }
        return 0
    }
}

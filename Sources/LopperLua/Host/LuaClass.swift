import CLua
import LuaShim

/// A Swift class exposed to Lua as userdata: a metatable with methods (`obj:name()`),
/// metamethods, a type name for messages, and release on collection.
public final class LuaClass<T: AnyObject> {
    public let name: String
    let key = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))
    let methods: [LuaFunction]
    let metamethods: [(String, LuaFunction)]
    /// Called for keys that are not methods (`net.fc1`, `seq[2]`), if given.
    let indexer: LuaFunction?

    public init(_ name: String, methods: [LuaFunction], metamethods: [(String, LuaFunction)] = [],
                indexer: LuaFunction? = nil) {
        self.name = name
        self.methods = methods
        self.metamethods = metamethods
        self.indexer = indexer
    }

    private lazy var release = LuaFunction("gc") { [key] c in
        if let p = lp_to_object(c.L, 1, key) {
            lp_clear_slot(c.L, 1)
            Unmanaged<T>.fromOpaque(p).release()
        }
        return 0
    }

    /// Registers the metatable in a state.
    func install(_ L: OpaquePointer) {
        LuaClasses.methods[name] = methods.map { $0.name }
        lua_createtable(L, 0, Int32(metamethods.count + 3))
        for (event, f) in metamethods {
            f.push(L)
            lua_setfield(L, -2, event)
        }
        release.push(L)
        lua_setfield(L, -2, "__gc")
        lua_pushstring(L, "lopper." + name)
        lua_setfield(L, -2, "__name")
        pushMethods(L)
        if let indexer {
            indexer.push(L)
            lp_install_indexed_metatable(L, key)
            return
        }
        lua_setfield(L, -2, "__index")
        lua_rawsetp(L, lp_registryindex(), key)
    }

    /// Pushes a table of the methods (also the metatable of Lua-written objects that share them).
    func pushMethods(_ L: OpaquePointer) {
        lua_createtable(L, 0, Int32(methods.count))
        for f in methods {
            f.document(as: "\(name):\(f.name)")
            f.push(L)
            lua_setfield(L, -2, f.name)
        }
    }

    /// The object at `i` if it is one of this class, else nil.
    public func optional(_ c: LuaCall, _ i: Int32) -> T? { optional(c.L, i) }

    func optional(_ L: OpaquePointer, _ i: Int32) -> T? {
        lp_to_object(L, i, key).map { Unmanaged<T>.fromOpaque($0).takeUnretainedValue() }
    }

    @discardableResult
    public func push(_ c: LuaCall, _ object: T) -> Int32 { push(c.L, object) }

    /// Pushes outside a binding call (hooks, callbacks).
    @discardableResult
    func push(_ L: OpaquePointer, _ object: T) -> Int32 {
        lp_new_object(L, key).pointee = Unmanaged.passRetained(object).toOpaque()
        return 1
    }

    public func check(_ c: LuaCall, _ i: Int32) throws -> T {
        guard let p = lp_to_object(c.L, i, key) else {
            throw c.error("expected a \(name), got \(c.typeName(i))")
        }
        return Unmanaged<T>.fromOpaque(p).takeUnretainedValue()
    }
}

/// The method names of every class installed, by class name (`Module` → forward, …), for
/// the documentation's completeness test and `help`.
enum LuaClasses {
    nonisolated(unsafe) static var methods: [String: [String]] = [:]
}

import CLua
import LuaShim

/// An error raised from a binding back into Lua; its message names the function.
public struct LuaError: Error, CustomStringConvertible {
    public let message: String
    /// Raised as it is: an error from Lua code called back from Swift (a Lua module's
    /// forward, a callback) already names its own file and line.
    public var positioned = false
    public init(_ message: String, positioned: Bool = false) {
        self.message = message
        self.positioned = positioned
    }
    public var description: String { message }
}

/// A Swift function callable from Lua. The body reads its arguments through `LuaCall`,
/// pushes its results and returns how many; any error it throws becomes a Lua error,
/// raised by the C trampoline after this Swift frame has returned (see LuaShim.h).
public final class LuaFunction {
    public let name: String
    /// The name its documentation goes by (`lp.prune.score`, `Module:forward`), given where
    /// it is installed; the first place wins.
    public private(set) var docName: String?
    let body: (LuaCall) throws -> Int32

    public init(_ name: String, _ body: @escaping (LuaCall) throws -> Int32) {
        self.name = name
        self.body = body
        // Bindings live as long as the process: Lua holds them as light userdata.
        pointer = Unmanaged.passRetained(self).toOpaque()
    }

    fileprivate var pointer: UnsafeMutableRawPointer!

    /// Names the function for its documentation, unless an earlier place did.
    func document(as name: String) {
        if docName == nil { docName = name }
    }

    /// The binding at index `i`, or nil when that value is not one.
    static func at(_ L: OpaquePointer, _ i: Int32) -> LuaFunction? {
        lp_binding_box(L, i).map { Unmanaged<LuaFunction>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Pushes this function onto the Lua stack as a closure over the trampoline.
    public func push(_ L: OpaquePointer) {
        LuaFunction.installDispatcher
        lp_push_binding(L, pointer)
    }

    private static let installDispatcher: Void = lp_set_dispatcher(dispatch)
}

/// Runs a binding; never lets a Swift error escape into C.
private func dispatch(_ L: OpaquePointer?, _ box: UnsafeMutableRawPointer?) -> Int32 {
    let function = Unmanaged<LuaFunction>.fromOpaque(box!).takeUnretainedValue()
    let call = LuaCall(L: L!, function: function)
    let outer = LuaThread.current
    LuaThread.current = L
    defer { LuaThread.current = outer }
    do {
        return try function.body(call)
    } catch {
        let message: String
        var code = LP_ERROR
        switch error {
        case let e as LuaError:
            message = e.message
            if e.positioned { code = LP_RERAISE }
        case let e as TensorErrorConvertible:
            // Core errors name the operation that failed; when that is an inner one
            // (`build` failing in `resnet`), the function the script called comes first.
            let m = e.luaMessage
            message = m.hasPrefix(function.name + ":") ? m : "\(function.name): \(m)"
        default: message = "\(function.name): \(error)"
        }
        lua_settop(L, 0)
        lua_pushstring(L, message)
        return code
    }
}

/// Errors from the core that already carry a complete message.
protocol TensorErrorConvertible { var luaMessage: String { get } }

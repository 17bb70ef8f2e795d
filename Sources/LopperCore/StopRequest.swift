/// Long native loops (iterative pruning, and anything else that runs for many steps) ask
/// between steps whether the run must stop — Ctrl-C or `--time-limit` — so a stop never
/// waits for the whole loop. The Lua host installs the question; without one, never.
public enum StopRequest {
    nonisolated(unsafe) public static var reason: () -> String? = { nil }

    /// Throws "op: <reason> at <where>" when a stop was asked for.
    public static func check(_ op: String, at place: String) throws {
        if let why = reason() { throw TensorError("\(op): \(why) at \(place)") }
    }
}

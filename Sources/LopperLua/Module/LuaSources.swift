import Foundation

/// Lopper's own Lua programs — `Sources/LopperLua/Lua/*.lua`: prelude.lua, cells.lua,
/// sparse.lua, eval.lua, help.lua, sandbox.lua — shipped as resources of this target and read once. They load under the
/// chunk name `@lopper/<file>`, so errors inside them name the file and its real line.
enum LuaSources {
    nonisolated(unsafe) private static var loaded: [String: String] = [:]

    /// The text of `<name>.lua`.
    static func text(_ name: String) throws -> String {
        if let text = loaded[name] { return text }
        guard let url = Bundle.module.url(forResource: name, withExtension: "lua", subdirectory: "Lua"),
              let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
            throw LuaScriptError(message: "lopper: its Lua file \(name).lua is missing from \(Bundle.module.bundlePath) (a broken install?)")
        }
        loaded[name] = text
        return text
    }

    /// The chunk name a shipped file loads under.
    static func chunkName(_ name: String) -> String { "@lopper/\(name).lua" }
}

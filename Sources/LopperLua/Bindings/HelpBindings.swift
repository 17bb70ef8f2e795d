import CLua
import LuaShim

/// The native half of `help()` (the Lua half is Lua/help.lua): documentation by name, the
/// name of a binding, searches, the methods of a type and the members of a table.
enum HelpBindings {
    /// A string, or nil for an empty one.
    static func pushText(_ c: LuaCall, _ s: String) -> Int32 {
        if s.isEmpty { lua_pushnil(c.L); return 1 }
        return c.push(s)
    }

    static func docs<T>(_ c: LuaCall, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as DocParser.Failure { throw c.error(e.description) }
    }

    static let functions: [LuaFunction] = [
        LuaFunction("_doc") { c in
            // _doc(name) → the entry in full, or nil
            try c.arity(1, 1)
            let name = try c.string(1, "name")
            return pushText(c, try docs(c) { try DocIndex.entry(named: name).map(DocText.terminal) } ?? "")
        },
        LuaFunction("_doc_name") { c in
            // _doc_name(f) → the documented name of a Swift binding, or nil
            try c.arity(1, 1)
            return pushText(c, LuaFunction.at(c.L, 1)?.docName ?? "")
        },
        LuaFunction("_doc_search") { c in
            // _doc_search(words) → entries, recipes: two lists as text (nil when none)
            try c.arity(1, 1)
            let query = try c.string(1, "words")
            let entries = try docs(c) { try DocIndex.search(query) }
            _ = pushText(c, entries.count == 1 ? DocText.terminal(entries[0]) : DocText.list(entries))
            let recipes = RecipeDoc.search(query)
            let w = (recipes.map { $0.path.count }.max() ?? 0) + 2
            _ = pushText(c, recipes.map { r in
                "  " + r.path.padding(toLength: w, withPad: " ", startingAt: 0) + DocText.clip(r.header, DocText.width - w - 2)
            }.joined(separator: "\n"))
            lua_pushinteger(c.L, lua_Integer(entries.count))
            return 3
        },
        LuaFunction("_doc_methods") { c in
            // _doc_methods(type) → its methods, one line each, or nil
            try c.arity(1, 1)
            let type = try c.string(1, "type")
            return pushText(c, DocText.list(try docs(c) { try DocIndex.methods(of: type) }))
        },
        LuaFunction("_doc_members") { c in
            // _doc_members(prefix) → the entries of table `prefix` (`lp.prune`), or nil
            try c.arity(1, 1)
            let prefix = try c.string(1, "table")
            return pushText(c, DocText.list(try docs(c) { try DocIndex.members(of: prefix) }))
        },
        LuaFunction("_doc_areas") { c in
            // _doc_areas() → one line per area: its title and entries' count
            try c.arity(0, 0)
            let areas = try docs(c) { try DocIndex.areas() }
            let w = (areas.map { $0.title.count }.max() ?? 0) + 2
            return c.push(areas.map { a in
                "  " + a.title.padding(toLength: w, withPad: " ", startingAt: 0)
                    + DocText.clip(a.entries.prefix(6).map { $0.name }.joined(separator: ", ") + (a.entries.count > 6 ? ", …" : ""), DocText.width - w - 2)
            }.joined(separator: "\n"))
        },
    ]
}

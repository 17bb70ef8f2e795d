import LopperReport

/// The native half of recorded runs (the Lua half is in the prelude).
enum RunBindings {
    static let functions: [LuaFunction] = [
        LuaFunction("_render_report") { c in
            // _render_report(dir): report.html and report.md from the run folder's files.
            try c.arity(1, 1)
            do { try ReportWriter.write(run: try c.string(1, "run folder")) }
            catch let e as ReportError { throw c.error(e.description) }
            return 0
        },
    ]
}

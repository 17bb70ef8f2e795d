import XCTest
@testable import LopperLua

/// The documentation carried by the bindings: every function and method of `lp` has an
/// entry, every entry names something real, every example runs, and the documented options
/// are exactly the ones each function accepts.
final class DocsTests: LuaTestCase {
    func testEveryFunctionOfLpHasAnEntry() throws {
        // Walk lp in Lua; each function must resolve, by the same route help() takes, to an entry.
        let missing = eval("""
            local seen, out = {}, {}
            local function walk(t, prefix, depth)
              for k, v in pairs(t) do
                if type(k) == "string" and k:sub(1, 1) ~= "_" then
                  local name = prefix .. "." .. k
                  if type(v) == "function" then
                    if not lp._doc(lp._doc_name(v) or name) then out[#out + 1] = name end
                  elseif type(v) == "table" and not seen[v] and depth < 2 then
                    seen[v] = true
                    walk(v, name, depth + 1)
                  end
                end
              end
            end
            walk(lp, "lp", 0)
            if not lp._doc("help") then out[#out + 1] = "help" end
            table.sort(out)
            return table.concat(out, ", ")
            """)
        XCTAssertEqual(missing, [""], "functions of lp without documentation")
    }

    func testEveryMethodOfEveryClassHasAnEntry() throws {
        XCTAssertGreaterThanOrEqual(LuaClasses.methods.count, 8, "classes installed: \(LuaClasses.methods.keys.sorted())")
        var missing: [String] = []
        for f in LopperModule.methods where try DocIndex.entry(named: "Tensor:\(f.name)") == nil { missing.append("Tensor:\(f.name)") }
        for (cls, names) in LuaClasses.methods {
            for m in names where try DocIndex.entry(named: "\(cls):\(m)") == nil { missing.append("\(cls):\(m)") }
        }
        XCTAssertEqual(missing.sorted(), [], "methods without documentation")
    }

    func testEveryEntryNamesSomethingReal() throws {
        var names = Set<String>()
        for e in try DocIndex.entries() {
            for n in e.names {
                XCTAssertTrue(names.insert(n).inserted, "\(n) is documented twice")
                if let colon = n.firstIndex(of: ":") {
                    let cls = String(n[..<colon]), method = String(n[n.index(after: colon)...])
                    let known = cls == "Tensor" ? LopperModule.methods.map { $0.name } : LuaClasses.methods[cls] ?? []
                    XCTAssertTrue(known.contains(method), "\(n) is documented but no such method exists")
                } else if n != "Tensor" {
                    XCTAssertEqual(eval("return (load('return ' .. \(lua(n))))() ~= nil"), ["true"], "\(n) is documented but does not exist")
                }
            }
            XCTAssertFalse(e.text.isEmpty, "\(e.name) has no description")
            XCTAssertFalse(e.example.isEmpty, "\(e.name) has no example")
            XCTAssertFalse(e.area.isEmpty, "\(e.name) belongs to no area")
            for o in e.options { XCTAssertFalse(o.text.isEmpty, "\(e.name): option \(o.name) has no description") }
        }
    }

    /// Runs every entry's example on a fresh host in a scratch folder; records which option
    /// keys each binding accepts, and compares them with its documented options.
    func testEveryExampleRunsAndTheOptionsMatchTheCode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("docs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(dir)
        defer {
            FileManager.default.changeCurrentDirectoryPath(cwd)
            try? FileManager.default.removeItem(atPath: dir)
            LuaOptions.observer = nil
        }
        var accepted: [String: Set<String>] = [:]
        LuaOptions.observer = { name, keys in accepted[name, default: []].formUnion(keys) }
        let entries = try DocIndex.entries()
        for e in entries {
            let h = try LuaHost()
            do {
                try h.run("print = function() end", chunkName: "=quiet")
                try h.run(e.example, chunkName: "=\(e.name) example")
            } catch {
                XCTFail("the example of \(e.name) fails: \(error)")
            }
        }
        // Internal functions (lp._time under lp.benchmark) are documented by their caller.
        for (name, keys) in accepted.sorted(by: { $0.key < $1.key }) where !name.contains("._") {
            guard let e = try DocIndex.entry(named: name) else { XCTFail("\(name) reads options but has no entry"); continue }
            XCTAssertEqual(Set(e.options.map { $0.name }), keys, "\(name): documented options differ from the accepted ones")
        }
        // Every native entry with options had them checked: its example reached the binding.
        // lp.plot, lp.table, lp.data.named and lp.benchmark are written in Lua and check their own keys:
        // an unknown one gets an error that lists the known ones.
        for (name, call) in [("lp.plot", "lp.plot{"), ("lp.table", "lp.table{"), ("lp.data.named", "lp.data.named('cifar10', {"),
                            ("lp.benchmark", "lp.benchmark(lp.nn.ReLU(), {"), ("lp.sparse.updater", "lp.sparse.updater{"),
                            ("lp.penalty.l1", "lp.penalty.group_lasso(lp.nn.Linear(2, 2), {"),
                            ("lp.eval.agreement", "lp.eval.agreement(lp.nn.ReLU(), lp.nn.ReLU(), lp.data.tensors{x = lp.ones(2, 2), y = lp.from{1, 2}}, {"),
                            ("lp.eval.noise", "lp.eval.noise(lp.nn.ReLU(), lp.data.tensors{x = lp.ones(2, 2), y = lp.from{1, 2}}, {"),
                            ("lp.eval.prune_potential", "lp.eval.prune_potential({dense = {}, points = {}}, {")] {
            let h = try LuaHost()
            do {
                try h.run("\(call)rows = {}, no_such_option = 1}\(call.hasSuffix(", {") ? ")" : "")", chunkName: "=probe")
                XCTFail("\(name) accepted an unknown option")
            } catch let e as LuaScriptError {
                let known = e.message.range(of: "known: ").map { e.message[$0.upperBound...].prefix { $0 != ";" && $0 != ")" } } ?? ""
                accepted[name] = Set(known.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            }
            let documented = Set(try XCTUnwrap(DocIndex.entry(named: name)).options.map { $0.name })
            XCTAssertEqual(documented, accepted[name], "\(name): documented options differ from the accepted ones")
        }
        for e in entries where !e.options.isEmpty {
            XCTAssertTrue(e.names.contains { accepted[$0] != nil }, "\(e.name) documents options, but its example never called it")
        }
    }

    func testHelpFindsByValueNameAndWord() throws {
        check("lp.help_text(lp.prune.prune):find('Options:', 1, true) ~= nil")
        check("lp.help_text(lp.prune.prune):find('amount', 1, true) ~= nil")
        check("lp.help_text('prune.score'):match('^lp.prune.score%(') ~= nil")
        check("lp.help_text(lp.add) == lp.help_text('Tensor:add')")
        check("lp.help_text(lp.zeros(2).sum):match('^Tensor:sum') ~= nil")
        check("lp.help_text(lp.nn.Linear(2, 2)):find('Module:forward', 1, true) ~= nil")
        check("lp.help_text(lp.nn.module{forward = function(s, x) return x end}):find('Module:parameters', 1, true) ~= nil")
        check("lp.help_text(lp.optim):find('lp.optim.SGD', 1, true) ~= nil")
        check("lp.help_text(lp.config):match('^lp.config%(defaults%)') ~= nil")
        check("lp.help_text('rewind'):find('lp.prune.rewind_lr', 1, true) ~= nil")
        check("lp.help_text('no such thing at all'):find('nothing matches', 1, true) ~= nil")
        check("lp.help_text(42):find('no documentation', 1, true) ~= nil")
        check("lp.help_text():find('Areas:', 1, true) ~= nil")
    }

    func testHelpOnAFunctionOfTheScriptShowsTheCommentAboveIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mine-\(UUID().uuidString).lua").path
        try "-- Scales magnitudes by the square root of fan-in.\nfunction scaled(net, names) return {} end\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try host.run("dofile(\(lua(path)))", chunkName: "=t")
        check("lp.help_text(scaled):find('defined at', 1, true) ~= nil")
        check("lp.help_text(scaled):find('square root of fan-in', 1, true) ~= nil")
    }

    func testUnknownOptionsPointAtHelp() {
        expectError("lp.nn.Linear(2, 2, {biass = false})", "see help(lp.nn.Linear)")
        expectError("lp.zeros(2):backward({retain = true})", "unknown option 'retain'")
        expectError("lp.table{rows = {}, colums = {}}", "see help(lp.table)")
    }

    func testTheParserReadsOptionsAliasesAndExamples() throws {
        let area = try DocParser.area(id: "t", markdown: """
            # Title
            Intro.

            ## lp.f(x [, options]) -> y
            Also: lp.g(x), Tensor:f
            Does f. Then more.

            - `a` (number, default `1`): the a.
              Continued.
            - `b` (string): the b.

            ```lua
            assert(true)
            ```
            """, source: "t.md")
        XCTAssertEqual(area.title, "Title")
        XCTAssertEqual(area.intro, "Intro.")
        let e = try XCTUnwrap(area.entries.first)
        XCTAssertEqual(e.name, "lp.f")
        XCTAssertEqual(e.aliases, ["lp.g", "Tensor:f"])
        XCTAssertEqual(e.summary, "Does f.")
        XCTAssertEqual(e.options, [.init(name: "a", type: "number", defaultValue: "`1`", text: "the a. Continued."),
                                   .init(name: "b", type: "string", defaultValue: nil, text: "the b.")])
        XCTAssertEqual(e.example, "assert(true)")
        XCTAssertThrowsError(try DocParser.area(id: "t", markdown: "## lp.f()\ntext\n```lua\nopen", source: "t.md"))
    }

    func testTheCommittedReferenceIsTheGeneratedOne() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let committed = try String(contentsOf: root.appendingPathComponent("docs/reference.md"), encoding: .utf8)
        XCTAssertTrue(committed == DocText.reference(try DocIndex.areas()), "docs/reference.md is out of date: run Scripts/docs")
    }

    /// A Lua string literal.
    func lua(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

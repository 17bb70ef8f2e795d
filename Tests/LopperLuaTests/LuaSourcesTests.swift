import XCTest
import Foundation
@testable import LopperLua

/// Lopper's own Lua programs are Lua files: each passes `luac5.4 -p`, the copy shipped in
/// the resources is the file in the tree, and errors inside them name the file.
final class LuaSourcesTests: XCTestCase {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/LopperLua/Lua").standardized

    func testEveryShippedLuaFileCompilesAndMatchesTheTree() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".lua") }.sorted()
        XCTAssertEqual(files, ["cells.lua", "eval.lua", "help.lua", "prelude.lua", "sandbox.lua", "sparse.lua"])
        for file in files {
            let path = folder.appendingPathComponent(file).path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/luac5.4")
            p.arguments = ["-p", path]
            let err = Pipe()
            p.standardError = err
            try p.run()
            p.waitUntilExit()
            let message = String(data: err.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
            XCTAssertEqual(p.terminationStatus, 0, "\(file): \(message)")
            XCTAssertEqual(try LuaSources.text(String(file.dropLast(4))), try String(contentsOfFile: path, encoding: .utf8), file)
        }
    }

    /// luacheck (Debian's lua-check, installed by Scripts/setup) over the shipped Lua, the
    /// recipes and the fuzz target, with the project's .luacheckrc: no warning at all.
    func testLuacheckFindsNothing() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/luacheck"), "lua-check is not installed (Scripts/setup installs it)")
        let root = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/luacheck")
        p.currentDirectoryURL = root
        p.arguments = ["--no-color", "-q", "Sources/LopperLua/Lua", "Recipes", "Tests/Fuzz"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
    }

    func testErrorsInsideThemNameTheFile() throws {
        let host = try LuaHost()
        // A traceback through lp.table shows the prelude by its file name and a real line.
        XCTAssertThrowsError(try host.run("lp.table{rows = {{1}}, columns = 5}")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("lopper/prelude.lua:"), text)
        }
    }
}

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
        XCTAssertEqual(files, ["cells.lua", "help.lua", "prelude.lua", "sandbox.lua"])
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

    func testErrorsInsideThemNameTheFile() throws {
        let host = try LuaHost()
        // A traceback through lp.table shows the prelude by its file name and a real line.
        XCTAssertThrowsError(try host.run("lp.table{rows = {{1}}, columns = 5}")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("lopper/prelude.lua:"), text)
        }
    }
}

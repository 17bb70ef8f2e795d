import XCTest
@testable import LopperLua
import LopperCore

/// Runs Lua snippets on a fresh host per test.
class LuaTestCase: XCTestCase {
    var host: LuaHost!

    override func setUpWithError() throws { host = try LuaHost() }
    override func tearDown() { host = nil }

    /// The results of an expression, as strings.
    func eval(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do { return try host.eval(code) } catch {
            XCTFail("\(code): \(error)", file: file, line: line)
            return []
        }
    }

    /// Asserts that a Lua expression is true.
    func check(_ code: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(eval(code, file: file, line: line), ["true"], code, file: file, line: line)
    }

    /// Asserts that `code` raises an error whose message contains `fragment`, and that the
    /// host still works afterwards.
    func expectError(_ code: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try host.run(code, chunkName: "=snippet")
            XCTFail("expected an error from: \(code)", file: file, line: line)
        } catch let e as LuaScriptError {
            let first = e.message.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertTrue(first.contains(fragment), "'\(first)' lacks '\(fragment)'", file: file, line: line)
            XCTAssertTrue(first.hasPrefix("snippet:1:"), "'\(first)' lacks the position", file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        XCTAssertEqual(try? host.eval("1 + 1"), ["2"], "host is not alive after: \(code)", file: file, line: line)
    }
}

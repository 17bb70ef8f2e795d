import XCTest
import Foundation

/// `lopper repl` and `lopper run -i` under a pseudo-terminal (util-linux `script`).
final class ReplTests: CLITestCase {
    /// Types `input` at the prompt of `lopper <args>` in a pseudo-terminal; returns what it showed.
    func session(_ args: String, input: String) throws -> String {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux script is missing")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("repl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qfec", "\(binary.path) \(args)", "/dev/null"]
        p.environment = ["HOME": home, "TERM": "dumb", "PATH": "/usr/bin:/bin"]
        let stdin = Pipe(), out = Pipe()
        p.standardInput = stdin
        p.standardOutput = out
        p.standardError = out
        try p.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        stdin.fileHandleForWriting.closeFile()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: home + "/.lopper_history"), "no history kept")
        return text.replacingOccurrences(of: "\r", with: "")
    }

    func testThePromptPrintsResultsJoinsLinesAndSurvivesErrors() throws {
        let out = try session("repl", input: "x = 20\nx + 22\nfor i = 1, 2 do\nprint('line', i)\nend\nerror('boom')\nlp.eye(2):sum()\n")
        XCTAssertTrue(out.contains("\n42\n"), out)
        XCTAssertTrue(out.contains("..> "), "a second-line prompt for the unfinished block: \(out)")
        XCTAssertTrue(out.contains("line\t1\nline\t2\n"), out)
        XCTAssertTrue(out.contains("stdin:1: boom"), out)
        XCTAssertTrue(out.contains("tensor(2)"), "the prompt went on after the error: \(out)")
    }

    func testRunDashIKeepsTheScriptsGlobals() throws {
        let path = try script("answer = 6 * 7")
        let out = try session("run -i --no-run-folder \(path)", input: "answer\n")
        XCTAssertTrue(out.contains("\n42\n"), out)
    }
}

import XCTest
import Foundation

/// `lopper repl` and `lopper run -i` under a pseudo-terminal (util-linux `script`).
extension CLITestCase {
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
}

final class ReplTests: CLITestCase {
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

/// `help` at the prompt and from the shell, against golden files (Tests/LopperCLITests/Golden).
final class HelpGoldenTests: CLITestCase {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// What the prompt printed for `line`: the text between its echo and the next prompt.
    func answer(_ out: String, to line: String) -> String? {
        guard let start = out.range(of: "lp> " + line + "\n") else { return nil }
        let rest = out[start.upperBound...]
        let end = rest.range(of: "lp> ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    func compare(_ text: String, golden name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = Self.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["LOPPER_UPDATE_GOLDEN"] == "1" { try text.write(to: url, atomically: true, encoding: .utf8) }
        let expected = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(text, expected, "differs from Golden/\(name) (LOPPER_UPDATE_GOLDEN=1 rewrites it)", file: file, line: line)
    }

    func testHelpAtThePromptMatchesTheGoldenFiles() throws {
        let out = try session("repl", input: "help(lp.prune.prune)\n?rewind\n")
        try compare(try XCTUnwrap(answer(out, to: "help(lp.prune.prune)"), out), golden: "help_prune_prune.txt")
        try compare(try XCTUnwrap(answer(out, to: "?rewind"), out), golden: "help_rewind.txt")
    }

    func testLopperHelpFromTheShell() throws {
        let r = try lopper("help", "lp.prune.prune")
        XCTAssertEqual(r.status, 0, r.err)
        try compare(r.out, golden: "help_prune_prune.txt")
        let table = try lopper("help", "lp.prune")
        XCTAssertTrue(table.out.contains("lp.prune.rewind_lr"), table.out)
        let usage = try lopper("help", "run")
        XCTAssertTrue(usage.out.contains("USAGE: lopper run"), "lopper help run is still the usage of run: \(usage.out)")
    }
}

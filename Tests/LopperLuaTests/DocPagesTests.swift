import XCTest
@testable import LopperLua

/// The examples of README.md and docs/*.md marked ```lua runnable: each runs, on a fresh host
/// in a scratch folder, so that the pages stay true. Relative links between the pages must
/// point at files that exist.
final class DocPagesTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The pages: README.md and every docs/*.md but the generated reference.
    static func pages() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") && $0 != "reference.md" }.sorted().map { "docs/" + $0 }
        return ["README.md"] + docs
    }

    /// The runnable blocks of a page, with the line each starts on.
    static func runnableBlocks(_ text: String) -> [(line: Int, code: String)] {
        var out: [(Int, String)] = [], current: [String]? = nil, start = 0
        for (k, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if current != nil {
                if line.hasPrefix("```") { out.append((start, current!.joined(separator: "\n"))); current = nil }
                else { current!.append(String(line)) }
            } else if line.trimmingCharacters(in: .whitespaces) == "```lua runnable" {
                current = []
                start = k + 2
            }
        }
        return out
    }

    func testTheRunnableExamplesRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pages-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(dir)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd); try? FileManager.default.removeItem(atPath: dir) }
        var count = 0
        for page in try Self.pages() {
            let text = try String(contentsOf: Self.root.appendingPathComponent(page), encoding: .utf8)
            for (line, code) in Self.runnableBlocks(text) {
                count += 1
                let host = try LuaHost()
                do {
                    try host.run("print = function() end", chunkName: "=quiet")
                    // Blank lines first, so that an error's line number is the page's.
                    try host.run(String(repeating: "\n", count: line - 1) + code, chunkName: "@" + page)
                } catch {
                    XCTFail("\(page):\(line): the example fails: \(error)")
                }
            }
        }
        XCTAssertGreaterThanOrEqual(count, 15, "runnable examples found")
    }

    func testTheRunnableBlocksAreFound() {
        let blocks = Self.runnableBlocks("text\n```lua runnable\nlocal a = 1\n```\n```lua\nnot run\n```\n")
        XCTAssertEqual(blocks.count, 1)
        XCTAssertEqual(blocks.first?.line, 3)
        XCTAssertEqual(blocks.first?.code, "local a = 1")
    }

    func testRelativeLinksPointAtFiles() throws {
        for page in try Self.pages() {
            let text = try String(contentsOf: Self.root.appendingPathComponent(page), encoding: .utf8)
            let base = Self.root.appendingPathComponent(page).deletingLastPathComponent()
            let links = try NSRegularExpression(pattern: "\\]\\(([^)#:]+)(#[^)]*)?\\)")
            for m in links.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let target = String(text[Range(m.range(at: 1), in: text)!])
                XCTAssertTrue(FileManager.default.fileExists(atPath: base.appendingPathComponent(target).path),
                              "\(page) links to \(target), which does not exist")
            }
        }
    }

    func testTheReadmeIsAShortEntry() throws {
        let lines = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertLessThanOrEqual(lines.count, 200, "README.md should stay an entry; the reference lives in docs/")
    }
}

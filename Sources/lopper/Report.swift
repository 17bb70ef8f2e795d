import ArgumentParser
import Foundation
import LopperReport

/// `lopper report RUN...`
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render the report of a run again, or of several runs overlaid in one page.",
        discussion: """
        One run: its report.html and report.md are written again. A sweep folder (lopper \
        sweep): its merged report. Several runs (three seeds, \
        say): one page where series of the same name are averaged, with their min…max \
        spread shaded, and the settings side by side.
        """)

    @Argument(help: "Run folders.")
    var runs: [String]

    @Option(name: .shortAndLong, help: "Where the overlaid report goes (several runs).")
    var output = "report.html"

    func run() throws {
        do {
            if runs.count == 1 && FileManager.default.fileExists(atPath: SweepManifest.file(runs[0])) {
                try SweepReport(folder: runs[0]).write()
                print(runs[0] + "/report.html")
                return
            }
            if runs.count == 1 {
                try ReportWriter.write(run: runs[0])
                print(runs[0] + "/report.html")
                return
            }
            let records = try runs.map { try RunRecord(path: $0) }
            try ReportWriter.write(HTMLReport(runs: records).render(), to: output)
            let md = (output.hasSuffix(".html") ? String(output.dropLast(5)) : output) + ".md"
            try ReportWriter.write(MarkdownReport(runs: records).render(), to: md)
            print(output)
        } catch let e as ReportError {
            FileHandle.standardError.write(("lopper: " + e.description + "\n").data(using: .utf8)!)
            throw ExitCode(1)
        }
    }
}

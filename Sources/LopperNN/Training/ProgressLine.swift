import Foundation

/// A live progress line for long work (training, pruning rounds, score iterations), on
/// standard error: redrawn in place on a terminal, plain lines every so often otherwise.
/// Lines nest: an inner one (training) shows after its outer one (the round).
public final class ProgressLine {
    public enum Mode: Sendable { case normal, quiet, verbose }
    /// Set by `lopper run --quiet / --verbose`.
    nonisolated(unsafe) public static var mode: Mode = .normal
    nonisolated(unsafe) static var active: [ProgressLine] = []
    nonisolated(unsafe) static var lastDraw = Date.distantPast
    nonisolated(unsafe) static var drawn = false
    static let isTerminal = isatty(2) != 0
    /// Seconds between plain lines: `LOPPER_PROGRESS_EVERY` (a sweep reads its points' logs), else 15.
    static let plainInterval: Double = {
        guard let text = ProcessInfo.processInfo.environment["LOPPER_PROGRESS_EVERY"], let s = Double(text), s > 0, s.isFinite else { return 15 }
        return s
    }()

    public let label: String
    public let total: Int
    public private(set) var done = 0
    var detail: () -> String = { "" }
    var work = 0
    let started = Date()
    let unit: String

    /// Starts a line: `total` units of work (steps, rounds), `unit` names the rate.
    public init(_ label: String, total: Int, unit: String = "") {
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
        Self.active.append(self)
    }

    /// Records progress; the line is redrawn when it is due. `detail` is only formatted
    /// then (this runs every training step). `work` counts what the rate is in (samples),
    /// if not the same as `done` (steps).
    public func update(_ done: Int, _ detail: @escaping @autoclosure () -> String = "", work: Int? = nil) {
        self.done = done
        self.detail = detail
        self.work = work ?? done
        Self.draw()
    }

    /// Ends the line (a finished outer line leaves its last state on a plain output).
    public func finish() {
        Self.active.removeAll { $0 === self }
        if Self.isTerminal && Self.drawn && Self.mode != .quiet {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            Self.drawn = false
        }
        if !Self.active.isEmpty { Self.draw() }
    }

    var text: String {
        var s = "\(label) \(done)/\(total)"
        let elapsed = Date().timeIntervalSince(started)
        if total > 0 { s += String(format: " %3.0f%%", 100 * Double(done) / Double(total)) }
        if done > 0 && elapsed > 0.5 {
            if !unit.isEmpty { s += String(format: " %.0f %@/s", Double(work) / elapsed, unit) }
            if done < total { s += " ETA " + Self.clock(elapsed / Double(done) * Double(total - done)) }
        }
        let d = detail()
        return d.isEmpty ? s : s + " " + d
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    static func draw() {
        guard mode != .quiet, let first = active.first else { return }
        let now = Date()
        let interval = isTerminal ? 0.1 : (mode == .verbose ? min(2, plainInterval) : plainInterval)
        // On a plain output nothing is printed for work that ends within the interval.
        let since = isTerminal ? lastDraw : max(lastDraw, first.started)
        guard now.timeIntervalSince(since) >= interval else { return }
        lastDraw = now
        let line = active.map(\.text).joined(separator: " · ")
        if isTerminal {
            let width = 160
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + String(line.prefix(width))).utf8))
            drawn = true
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

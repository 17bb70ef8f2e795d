import Foundation

/// sweep.json: a sweep's grid and each point's state. `lopper sweep` writes it; the
/// points' run folders (runs/<sweep>/<point>/) are the truth about what finished, and
/// `refreshStates` reads them back.
public struct SweepManifest: Codable {
    /// One axis of the grid: a recipe setting and the values it takes, as written on the command line.
    public struct Axis: Codable, Equatable {
        public var key: String
        public var values: [String]
        public init(key: String, values: [String]) { self.key = key; self.values = values }
    }

    /// One Slurm submission: the job id and the array indices it ran.
    public struct Submission: Codable {
        public var job: String
        public var array: String
        public var submitted: String
        public init(job: String, array: String, submitted: String) { self.job = job; self.array = array; self.submitted = submitted }
    }

    public struct Slurm: Codable {
        /// sbatch options in the script (partition, time, cpus-per-task, mem), in order.
        public var options: [[String]]
        public var throttle: Int?
        public var submissions: [Submission] = []
        public init(options: [[String]], throttle: Int?) { self.options = options; self.throttle = throttle }
    }

    public struct Point: Codable {
        public var index: Int
        /// The run folder's name under the sweep folder, e.g. `method=snip,density=0.1,seed=1`.
        public var name: String
        /// The point's settings, `key=value` in axis order (given to `lopper run --set`).
        public var set: [String]
        /// waiting, running, finished, failed, stopped (local); queued, running, … (Slurm).
        public var state: String = "waiting"
        public var error: String?
        public var seconds: Double?
        public var pid: Int32?
        public init(index: Int, name: String, set: [String]) { self.index = index; self.name = name; self.set = set }

        /// The value text of one setting of this point.
        public func value(_ key: String) -> String? {
            for s in set where s.hasPrefix(key + "=") { return String(s.dropFirst(key.count + 1)) }
            return nil
        }
    }

    public var version = 1
    public var name: String
    /// The recipe's name and the file name of its copy in the sweep folder.
    public var recipe: String
    public var script: String
    public var created: String
    public var grid: [Axis]
    public var zip: [Axis]
    /// Settings every point shares (`--set`).
    public var set: [String]
    /// The report's x axis (a grid key or a logged key) and the key averaged over (seeds).
    public var x: String?
    public var over: String?
    public var backend: String
    public var threads: Int
    public var jobs: Int
    public var slurm: Slurm?
    public var points: [Point]

    public init(name: String, recipe: String, script: String, created: String, grid: [Axis], zip: [Axis], set: [String],
                x: String?, over: String?, backend: String, threads: Int, jobs: Int, points: [Point]) {
        self.name = name; self.recipe = recipe; self.script = script; self.created = created; self.grid = grid
        self.zip = zip; self.set = set; self.x = x; self.over = over; self.backend = backend; self.threads = threads
        self.jobs = jobs; self.points = points
    }

    /// The grid's keys in order (grid axes, then the zipped ones).
    public var keys: [String] { (grid + zip).map(\.key) }

    public static func file(_ folder: String) -> String { folder + "/sweep.json" }

    /// Reads `<folder>/sweep.json`; the error names the file and what is wrong.
    public static func load(_ folder: String) throws -> SweepManifest {
        let path = file(folder)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportError("sweep: '\(folder)' is not a sweep folder: it has no sweep.json")
        }
        do { return try JSONDecoder().decode(SweepManifest.self, from: data) }
        catch { throw ReportError("sweep: \(path) is damaged: \(Self.describe(error))") }
    }

    /// Writes sweep.json atomically (a reader never sees half of it).
    public func save(_ folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        do { try data.write(to: URL(fileURLWithPath: Self.file(folder)), options: .atomic) }
        catch { throw ReportError("sweep: cannot write \(Self.file(folder)): \(error.localizedDescription)") }
    }

    /// The state a point's run folder records: nil if it has none yet.
    public static func folderState(_ folder: String) -> String? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: folder) else { return nil }
        guard let data = fm.contents(atPath: folder + "/status.json"),
              let status = (try? JSONValue.parse(data, source: folder))?["status"]?.string else { return "started" }
        return status
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "key '\(key.stringValue)' is missing"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "\(c.debugDescription) at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(error)"
        }
    }
}

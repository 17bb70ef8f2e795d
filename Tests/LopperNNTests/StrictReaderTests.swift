import XCTest
import Foundation
@testable import LopperNN
import LopperCore

/// Readers refuse every malformed file with a message, and never read memory the file
/// does not hold: the regressions of issue 12, each in the real format.
final class StrictReaderTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    /// A safetensors file with this header text and `payload` data bytes.
    func safetensors(_ header: String, payload: Int = 0) -> Data {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: h)
        out.append(Data(repeating: 0, count: payload))
        return out
    }

    func safetensorsError(_ header: String, payload: Int = 0) -> String {
        message { _ = try Safetensors.decode(safetensors(header, payload: payload), source: "f") }
    }

    func testSafetensorsHeadersAreReadStrictly() throws {
        let one = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertEqual(try Safetensors.decode(safetensors(one, payload: 8), source: "f").tensors.map { $0.0 }, ["a"])
        let cases: [(String, Int, String)] = [
            (#"{"a":{"dtype":"F32","shape":[4611686018427387906],"data_offsets":[0,8]}}"#, 8, "more elements than any tensor can hold"),
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#, 0, "more elements than any tensor can hold"),
            (#"{"a":{"dtype":"F64","shape":[1152921504606846976],"data_offsets":[0,0]}}"#, 0, "needs more than 2^63 bytes"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, 16, "duplicate key \"a\""),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, "overlap"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},}"#, 8, "not valid JSON"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-0.0,8]}}"#, 8, "two integers"),
            (#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, 8, "not an integer"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 12, "belong to no tensor"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "bytes 0..<4 belong to no tensor"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#, 8, "unknown field x"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} x"#, 8, "unexpected bytes after the value"),
            (#"{"__metadata__":{"k":1}}"#, 0, "must map strings to strings"),
            (#"[1]"#, 0, "does not start with '{'"),
            (#"{"a":{"dtype":"F32","shape":[02],"data_offsets":[0,8]}}"#, 8, "leading zero"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}}"#, 8, "does not fit 64 bits"),
        ]
        for (header, payload, fragment) in cases {
            let m = safetensorsError(header, payload: payload)
            XCTAssertTrue(m.contains(fragment) && m.contains("not a valid safetensors file"), "\(header): \(m)")
        }
    }

    /// A .npy (version 1.0) file with this header dict and `payload` data bytes.
    func npy(_ dict: String, payload: Int) -> Data {
        var header = dict
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        out.append(Data(repeating: 0, count: payload))
        return out
    }

    func testNpyHeadersAreParsedNotSearched() throws {
        XCTAssertEqual(try Npy.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", payload: 24), source: "f").shape, [3, 2])
        XCTAssertEqual(try Npy.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", payload: 20), source: "f").shape, [5])
        XCTAssertEqual(try Npy.decode(npy("{'shape': (), 'fortran_order': False, 'descr': '<f8'}", payload: 8), source: "f").shape, [])
        let cases: [(String, Int, String)] = [
            ("{'descr': '<f4', 'shape': (3, 2), }", 24, "exactly the keys"),
            ("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3, 2), }", 24, "expected '('"),
            ("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", 24, "Fortran-ordered"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387906,), }", 8, "more elements than any tensor can hold"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 0, "more elements"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -2), }", 24, "not a size"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), 'shape': (6,)}", 24, "repeats the key shape"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), } junk", 24, "text after the dict"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", 20, "needs 24 bytes of data, the file has 20"),
            ("{'descr': '>f4', 'fortran_order': False, 'shape': (3, 2), }", 24, "dtype >f4 is not supported"),
        ]
        for (dict, payload, fragment) in cases {
            let m = message { _ = try Npy.decode(npy(dict, payload: payload), source: "f") }
            XCTAssertTrue(m.contains(fragment) && m.contains("not a valid .npy file"), "\(dict): \(m)")
        }
        var cut = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", payload: 24)
        cut = cut.prefix(11)
        XCTAssertTrue(message { _ = try Npy.decode(cut, source: "f") }.contains("cut short"))
    }

    /// gzip bytes of `raw` (through the gzip command, as real MNIST files are made).
    func gzip(_ raw: Data) throws -> Data {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("x")
        try raw.write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-n", "-9", file.path]
        try p.run(); p.waitUntilExit()
        return try Data(contentsOf: dir.appendingPathComponent("x.gz"))
    }

    func idx(images n: Int, actual: Int) -> Data {
        var d = Data([0, 0, 8, 3])
        for v in [n, 28, 28] { d.append(contentsOf: [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]) }
        d.append(Data(repeating: 7, count: actual * 784))
        return d
    }

    func testIdxDecompressionIsBoundedByItsHeader() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.gz").path
        try gzip(idx(images: 3, actual: 3)).write(to: URL(fileURLWithPath: good))
        XCTAssertEqual(try IDXFile.read(path: good).shape, [3, 28, 28])
        // Declares 3 images, holds 3,000: decompression stops one byte past the declared size.
        let long = dir.appendingPathComponent("long.gz").path
        try gzip(idx(images: 3, actual: 3000)).write(to: URL(fileURLWithPath: long))
        XCTAssertTrue(message { _ = try IDXFile.read(path: long) }.contains("holds more than"))
        // Declares far more than memory: refused before anything is decompressed past the header.
        let huge = dir.appendingPathComponent("huge.gz").path
        try gzip(idx(images: 0x7fff_ffff, actual: 1)).write(to: URL(fileURLWithPath: huge))
        let m = message { _ = try IDXFile.read(path: huge) }
        XCTAssertTrue(m.contains("declares shape [2147483647,28,28]") && m.contains("tensor budget"), m)
        // Bytes after the gzip stream.
        let trailing = dir.appendingPathComponent("trailing.gz").path
        try (gzip(idx(images: 1, actual: 1)) + Data([1, 2, 3])).write(to: URL(fileURLWithPath: trailing))
        XCTAssertTrue(message { _ = try IDXFile.read(path: trailing) }.contains("3 bytes after the end of its gzip stream"))
        // A rank whose sizes multiply past 2^63.
        var wide = Data([0, 0, 8, 4])
        for _ in 0..<4 { wide.append(contentsOf: [0x7f, 0xff, 0xff, 0xff]) }
        XCTAssertTrue(message { _ = try IDXFile.parse(wide, name: "w") }.contains("more elements than any tensor can hold"))
    }

    func testStrictJSONKeepsIntegersExact() throws {
        XCTAssertEqual(try StrictJSON.parse(Array(#"{"a":[1,-2,3.5,"x\u00e9",true,null]}"#.utf8))["a"],
                       .array([.integer(1), .integer(-2), .number(3.5), .string("xé"), .bool(true), .null]))
        for bad in [#"{"a":1,}"#, #"[1,]"#, #"{"a" 1}"#, #"01"#, #"1."#, #"tru"#, #""\ud800""#, #"{"a":1}{"#, String(repeating: "[", count: 100)] {
            XCTAssertThrowsError(try StrictJSON.parse(Array(bad.utf8)), bad)
        }
    }
}

import XCTest
import Foundation
@testable import LopperNN
import LopperCore

final class DataTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testReadsGzipAndPlainIDX() throws {
        // Fixtures written by Python's gzip and struct modules.
        let images = try IDXFile.read(path: fixtures.appendingPathComponent("tiny-images-idx3-ubyte.gz").path)
        XCTAssertEqual(images.shape, [3, 2, 2])
        XCTAssertEqual(images.bytes, [0, 255, 128, 64, 1, 2, 3, 4, 10, 20, 30, 40])
        let labels = try IDXFile.read(path: fixtures.appendingPathComponent("tiny-labels-idx1-ubyte").path)
        XCTAssertEqual(labels.shape, [3])
        XCTAssertEqual(labels.bytes, [9, 0, 3])
    }

    func testMalformedFilesGiveClearErrors() {
        assertThrowsMessage("does not start with an IDX magic number") { _ = try IDXFile.parse(Data([1, 2, 3, 4]), name: "x") }
        assertThrowsMessage("only unsigned bytes (0x08)") { _ = try IDXFile.parse(Data([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]), name: "x") }
        assertThrowsMessage("declares shape [3] (3 bytes) but holds 2") { _ = try IDXFile.parse(Data([0, 0, 8, 1, 0, 0, 0, 3, 7, 7]), name: "x") }
        assertThrowsMessage("truncated in its header") { _ = try IDXFile.parse(Data([0, 0, 8, 2, 0, 0]), name: "x") }
        assertThrowsMessage("is not a complete gzip file") { _ = try Gzip.decompress(Data([0x1F, 0x8B, 8, 0, 0]), name: "cut.gz") }
        assertThrowsMessage("idx: cannot read '/no/file': no such file") { _ = try IDXFile.read(path: "/no/file") }
        assertThrowsMessage("install it with: apt-get install dataset-fashion-mnist") { _ = try FashionMNIST.load(split: "train", root: "/nowhere") }
    }

    func tiny() throws -> Dataset {
        try Dataset(name: "tiny", images: [0, 255, 128, 64, 1, 2, 3, 4, 10, 20, 30, 40], labels: [9, 0, 3],
                    sampleShape: [1, 2, 2], classes: 10, mean: 0.5, std: 0.25)
    }

    func testBatchesAreNormalisedWithOneBasedLabels() throws {
        let (x, y) = try tiny().batch([0, 2], flatten: true)
        XCTAssertEqual(x.shape, [2, 4])
        XCTAssertEqual(x[0, 1], (1 - 0.5) / 0.25, accuracy: 1e-6)
        XCTAssertEqual(x[1, 3], (40.0 / 255 - 0.5) / 0.25, accuracy: 1e-6)
        XCTAssertEqual(y.toArray(), [10, 4])
        XCTAssertEqual(try tiny().batch([1], flatten: false).x.shape, [1, 1, 2, 2])
    }

    func testSplitAndSeededShuffling() throws {
        let (train, val) = try tiny().split(last: 1)
        XCTAssertEqual(train.count, 2)
        XCTAssertEqual(try val.batch([0], flatten: true).y.toArray(), [4])
        func order(_ seed: UInt64) throws -> [Float] {
            let it = try BatchIterator(try tiny(), batchSize: 2, shuffle: true, seed: seed, flatten: true, dropLast: false)
            var labels: [Float] = []
            while let (_, y) = try it.next() { labels += y.toArray() }
            return labels
        }
        XCTAssertEqual(try order(1), try order(1))
        XCTAssertEqual(try order(1).sorted(), [1, 4, 10])
        let dropped = try BatchIterator(try tiny(), batchSize: 2, shuffle: false, seed: 0, flatten: true, dropLast: true)
        XCTAssertEqual(dropped.batchCount, 1)
        assertThrowsMessage("label 12 is outside 0..9") {
            _ = try Dataset(name: "bad", images: [1], labels: [12], sampleShape: [1], classes: 10, mean: 0, std: 1)
        }
    }

    func testFashionMNISTFromTheDebianPackage() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: FashionMNIST.defaultRoot), "dataset-fashion-mnist not installed")
        let train = try FashionMNIST.load(split: "train"), test = try FashionMNIST.load(split: "test")
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(train.sampleShape, [1, 28, 28])
        // The first labels of each file (9 = ankle boot), 1-based here.
        XCTAssertEqual(try train.batch([0, 1, 2, 3], flatten: true).y.toArray(), [10, 1, 1, 4])
        XCTAssertEqual(try test.batch([0, 1, 2], flatten: true).y.toArray(), [10, 3, 2])
    }

    func assertThrowsMessage(_ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do { try body(); XCTFail("expected an error with '\(fragment)'", file: file, line: line) } catch {
            XCTAssertTrue("\(error)".contains(fragment), "'\(error)' lacks '\(fragment)'", file: file, line: line)
        }
    }
}

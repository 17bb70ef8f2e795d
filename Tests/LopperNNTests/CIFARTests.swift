import XCTest
import Foundation
@testable import LopperNN
import LopperCore

/// The CIFAR binary readers, on small files written here in the real format.
final class CIFARTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cifar-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A record: label bytes, then each channel's 1024 pixels all equal to `pixel[c]`.
    func record(_ labels: [UInt8], _ pixel: [UInt8]) -> [UInt8] {
        labels + pixel.flatMap { [UInt8](repeating: $0, count: 1024) }
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
    }

    func testCIFAR10ReadsEveryTrainingBatchAndNormalisesPerChannel() throws {
        for k in 1...5 { try write("data_batch_\(k).bin", record([UInt8(k)], [255, 0, 128]) + record([9], [0, 0, 0])) }
        let ds = try CIFAR.load10(split: "train", root: dir)
        XCTAssertEqual(ds.count, 10)
        XCTAssertEqual(ds.sampleShape, [3, 32, 32])
        let (x, y) = try ds.batch([0, 1][...], flatten: false)
        XCTAssertEqual(y.data[0], 2)          // label 1, 1-based
        XCTAssertEqual(y.data[1], 10)
        XCTAssertEqual(x.data[0], (1 - 0.4914) / 0.2470, accuracy: 1e-5)          // red plane
        XCTAssertEqual(x.data[1024], (0 - 0.4822) / 0.2435, accuracy: 1e-5)       // green plane
        XCTAssertEqual(x.data[2048], (128 / 255 - 0.4465) / 0.2616, accuracy: 1e-5) // blue plane
        let raw = try CIFAR.load10(split: "train", root: dir, normalize: false)
        XCTAssertEqual(try raw.batch([0][...], flatten: true).x.data[0], 1)
    }

    func testCIFAR100ChoosesFineOrCoarseLabels() throws {
        try write("test.bin", record([3, 42], [1, 2, 3]))
        XCTAssertEqual(try CIFAR.load100(split: "test", root: dir).batch([0][...], flatten: true).y.data[0], 43)
        let coarse = try CIFAR.load100(split: "test", root: dir, coarse: true)
        XCTAssertEqual(coarse.classes, 20)
        XCTAssertEqual(try coarse.batch([0][...], flatten: true).y.data[0], 4)
    }

    func testMalformedFilesAreErrorsThatNameThem() throws {
        try write("test_batch.bin", record([1], [0, 0, 0]) + [7])
        XCTAssertThrowsError(try CIFAR.load10(split: "test", root: dir)) { e in
            XCTAssertTrue("\(e)".contains("test_batch.bin") && "\(e)".contains("3073-byte records"), "\(e)")
        }
        try write("test_batch.bin", record([10], [0, 0, 0]))
        XCTAssertThrowsError(try CIFAR.load10(split: "test", root: dir)) { e in
            XCTAssertTrue("\(e)".contains("record 1 has label 10"), "\(e)")
        }
        try write("test.bin", record([20, 5], [0, 0, 0]))
        XCTAssertThrowsError(try CIFAR.load100(split: "test", root: dir, coarse: true)) { e in
            XCTAssertTrue("\(e)".contains("label 20, outside 0..19"), "\(e)")
        }
        XCTAssertThrowsError(try CIFAR.load10(split: "train", root: dir)) { e in
            XCTAssertTrue("\(e)".contains("data_batch_1.bin") && "\(e)".contains("no such file"), "\(e)")
        }
        XCTAssertThrowsError(try CIFAR.load10(split: "valid", root: dir))
        try write("test_batch.bin", [])
        XCTAssertThrowsError(try CIFAR.load10(split: "test", root: dir), "an empty file")
    }
}

import Foundation
import LopperCore

/// CIFAR-10 and CIFAR-100 (Krizhevsky 2009) from their binary distributions: records of the
/// label byte(s) and 3072 image bytes (1024 red, 1024 green, 1024 blue, row-major 32×32).
///
///     cifar-10-batches-bin/  data_batch_1.bin … data_batch_5.bin, test_batch.bin  (1 label byte)
///     cifar-100-binary/      train.bin, test.bin                                  (coarse, fine)
public enum CIFAR {
    public static let imageBytes = 3 * 32 * 32
    /// The training pixels' per-channel mean and standard deviation (in [0, 1]).
    public static let mean10: [Float] = [0.4914, 0.4822, 0.4465], std10: [Float] = [0.2470, 0.2435, 0.2616]
    public static let mean100: [Float] = [0.5071, 0.4865, 0.4409], std100: [Float] = [0.2673, 0.2564, 0.2762]

    /// The folder a data set is in: `root` if given, else `$LOPPER_DATA/<folder>`.
    public static func folder(_ root: String?, _ folder: String, op: String) throws -> String {
        if let root { return root }
        guard let data = ProcessInfo.processInfo.environment["LOPPER_DATA"] else {
            throw TensorError("\(op): give root = the folder holding \(folder)/ files, or set LOPPER_DATA to its parent (CIFAR is not in Debian; copy the binary distribution there)")
        }
        return data + "/" + folder
    }

    /// CIFAR-10: `split` "train" (the five data batches, 50,000 images) or "test" (10,000).
    public static func load10(split: String, root: String?, normalize: Bool = true) throws -> Dataset {
        let dir = try folder(root, "cifar-10-batches-bin", op: "cifar10")
        let files: [String]
        switch split {
        case "train": files = (1...5).map { "data_batch_\($0).bin" }
        case "test": files = ["test_batch.bin"]
        default: throw TensorError("cifar10: split must be \"train\" or \"test\", got \"\(split)\"")
        }
        let (images, labels) = try read(files.map { dir + "/" + $0 }, labelBytes: 1, use: 0, classes: 10, op: "cifar10")
        return try Dataset(name: "cifar10-\(split)", images: images, labels: labels, sampleShape: [3, 32, 32], classes: 10,
                           channelMean: normalize ? mean10 : [0], channelStd: normalize ? std10 : [1])
    }

    /// CIFAR-100 with its 100 fine labels or 20 coarse ones.
    public static func load100(split: String, root: String?, coarse: Bool = false, normalize: Bool = true) throws -> Dataset {
        let dir = try folder(root, "cifar-100-binary", op: "cifar100")
        guard split == "train" || split == "test" else {
            throw TensorError("cifar100: split must be \"train\" or \"test\", got \"\(split)\"")
        }
        let classes = coarse ? 20 : 100
        let (images, labels) = try read([dir + "/\(split).bin"], labelBytes: 2, use: coarse ? 0 : 1, classes: classes, op: "cifar100")
        return try Dataset(name: "cifar100-\(split)", images: images, labels: labels, sampleShape: [3, 32, 32], classes: classes,
                           channelMean: normalize ? mean100 : [0], channelStd: normalize ? std100 : [1])
    }

    /// The images and the chosen label byte of every record of `paths`, checked: each file
    /// a whole number of records, each label below `classes`.
    static func read(_ paths: [String], labelBytes: Int, use: Int, classes: Int, op: String) throws -> ([UInt8], [UInt8]) {
        let record = labelBytes + imageBytes
        var images: [UInt8] = [], labels: [UInt8] = []
        for path in paths {
            try FilePolicy.check(path, write: false, op: op)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TensorError("\(op): cannot read '\(path)': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
            }
            guard !data.isEmpty, data.count % record == 0 else {
                throw TensorError("\(op): '\(path)' holds \(data.count) bytes, not a whole number of \(record)-byte records (\(labelBytes) label byte\(labelBytes == 1 ? "" : "s") and \(imageBytes) image bytes)")
            }
            let n = data.count / record
            // Checked as if the images were floats (four times their bytes): room for the
            // bytes themselves and the batches drawn from them.
            try MemoryBudget.checkShape([images.count / imageBytes + n, imageBytes], op: op)
            images.reserveCapacity(images.count + n * imageBytes)
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let b = raw.bindMemory(to: UInt8.self)
                for r in 0..<n {
                    labels.append(b[r * record + use])
                    images.append(contentsOf: b[(r * record + labelBytes)..<((r + 1) * record)])
                }
            }
            let first = labels.count - n
            if let k = labels[first...].firstIndex(where: { Int($0) >= classes }) {
                throw TensorError("\(op): '\(path)' record \(k - first + 1) has label \(labels[k]), outside 0..\(classes - 1)")
            }
        }
        return (images, labels)
    }
}

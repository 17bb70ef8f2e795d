import Foundation
import LopperCore

/// Fashion-MNIST (Xiao et al. 2017) from Debian's `dataset-fashion-mnist`: 60,000 training
/// and 10,000 test images of 28×28 bytes, 10 classes.
public enum FashionMNIST {
    public static let defaultRoot = "/usr/share/datasets/fashion-mnist"
    /// Mean and standard deviation of the training pixels (in [0, 1]).
    public static let mean: Float = 0.2860, std: Float = 0.3530

    /// `normalize: false` gives pixels in [0, 1] (torchvision's `ToTensor()` alone).
    public static func load(split: String, root: String = defaultRoot, normalize: Bool = true) throws -> Dataset {
        let prefix: String
        switch split {
        case "train": prefix = "train"
        case "test": prefix = "t10k"
        default: throw TensorError("fashion_mnist: split must be \"train\" or \"test\", got \"\(split)\"")
        }
        func file(_ kind: String) throws -> String {
            for candidate in ["\(root)/\(prefix)-\(kind)-ubyte.gz", "\(root)/\(prefix)-\(kind)-ubyte"]
            where FileManager.default.fileExists(atPath: candidate) { return candidate }
            throw TensorError("fashion_mnist: \(root)/\(prefix)-\(kind)-ubyte.gz not found; install it with: apt-get install dataset-fashion-mnist (Scripts/lopper does)")
        }
        let images = try IDXFile.read(path: try file("images-idx3"))
        let labels = try IDXFile.read(path: try file("labels-idx1"))
        guard images.shape.count == 3, labels.shape.count == 1, images.shape[0] == labels.shape[0] else {
            throw TensorError("fashion_mnist: image shape \(describeShape(images.shape)) and label shape \(describeShape(labels.shape)) do not match")
        }
        return try Dataset(name: "fashion-mnist-\(split)", images: images.bytes, labels: labels.bytes,
                           sampleShape: [1, images.shape[1], images.shape[2]], classes: 10,
                           mean: normalize ? mean : 0, std: normalize ? std : 1)
    }
}

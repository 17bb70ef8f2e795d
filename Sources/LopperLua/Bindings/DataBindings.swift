import Foundation
import CLua
import LuaShim
import LopperCore
import LopperNN

/// `lp.data`: data sets and their batch iterators.
///
///     local train, val = lp.data.fashion_mnist{split = "train", validation = 5000}
///     for x, y in train:batches(60, {shuffle = true, flatten = true}) do … end
enum DataBindings {
    static let iterator: LuaClass<BatchIterator> = LuaClass("BatchIterator", methods: [
        LuaFunction("count") { c in c.push(int: try iterator.check(c, 1).batchCount) },
    ], metamethods: [
        ("__call", LuaFunction("batches") { c in
            // The generic `for` calls the iterator: next batch (x, y), or nil at the end.
            guard let (x, y) = try iterator.check(c, 1).next() else { return c.pushNil() }
            c.push(x)
            return c.push(y) + 1
        }),
    ])

    static let dataset: LuaClass<Dataset> = LuaClass("Dataset", methods: [
        LuaFunction("size") { c in try c.arity(1, 1); return c.push(int: try dataset.check(c, 1).count) },
        LuaFunction("classes") { c in try c.arity(1, 1); return c.push(int: try dataset.check(c, 1).classes) },
        LuaFunction("batches") { c in
            // batches(size [, {shuffle = false, seed = <from lp.manual_seed>, flatten = false, drop_last = false}])
            try c.arity(2, 3)
            let ds = try dataset.check(c, 1)
            let size = try c.int(2, "batch size")
            let o = try LuaOptions(c, 3, known: ["shuffle", "seed", "flatten", "drop_last"])
            let shuffle = try o.bool("shuffle") ?? false, flatten = try o.bool("flatten") ?? false
            let dropLast = try o.bool("drop_last") ?? false
            let seed = try o.int("seed").map { UInt64(bitPattern: Int64($0)) } ?? RandomGenerator.shared.next()
            return iterator.push(c, try BatchIterator(ds, batchSize: size, shuffle: shuffle, seed: seed, flatten: flatten, dropLast: dropLast))
        },
        LuaFunction("all") { c in
            // all([{flatten = false}]) → every sample as x, y (for evaluation).
            try c.arity(1, 2)
            let ds = try dataset.check(c, 1)
            let flatten = try LuaOptions(c, 2, known: ["flatten"]).bool("flatten") ?? false
            let (x, y) = try ds.batch(Array(0..<ds.count)[...], flatten: flatten)
            c.push(x)
            return c.push(y) + 1
        },
    ], metamethods: [
        ("__len", LuaFunction("#") { c in c.push(int: try dataset.check(c, 1).count) }),
        ("__tostring", LuaFunction("tostring") { c in
            let d = try dataset.check(c, 1)
            return c.push("Dataset \(d.name): \(d.count) samples of \(describeShape(d.sampleShape)), \(d.classes) classes")
        }),
    ])

    static let functions: [LuaFunction] = [
        LuaFunction("fashion_mnist") { c in
            // fashion_mnist{split = "train"|"test", validation = 0, root = <Debian path>,
            // normalize = true} → the data set, and the held-out last `validation` samples
            // if asked. normalize = false leaves pixels in [0, 1].
            try c.arity(0, 1)
            let o = try LuaOptions(c, 1, known: ["split", "validation", "root", "normalize"])
            let split = try o.string("split") ?? "train", validation = try o.int("validation") ?? 0
            let root = try o.string("root") ?? FashionMNIST.defaultRoot, normalize = try o.bool("normalize") ?? true
            return try pushHeldOut(c, try FashionMNIST.load(split: split, root: root, normalize: normalize), validation)
        },
        LuaFunction("cifar10") { c in
            // cifar10{split = "train"|"test", root = $LOPPER_DATA/cifar-10-batches-bin, validation = 0, normalize = true}
            try c.arity(0, 1)
            let o = try LuaOptions(c, 1, known: ["split", "root", "validation", "normalize"])
            let ds = try CIFAR.load10(split: try o.string("split") ?? "train", root: try o.string("root"),
                                      normalize: try o.bool("normalize") ?? true)
            return try pushHeldOut(c, ds, try o.int("validation") ?? 0)
        },
        LuaFunction("cifar100") { c in
            // cifar100{split, root = $LOPPER_DATA/cifar-100-binary, labels = "fine"|"coarse", validation, normalize}
            try c.arity(0, 1)
            let o = try LuaOptions(c, 1, known: ["split", "root", "labels", "validation", "normalize"])
            let labels = try o.string("labels") ?? "fine"
            guard labels == "fine" || labels == "coarse" else { throw c.error("labels must be \"fine\" or \"coarse\", got \"\(labels)\"") }
            let ds = try CIFAR.load100(split: try o.string("split") ?? "train", root: try o.string("root"),
                                       coarse: labels == "coarse", normalize: try o.bool("normalize") ?? true)
            return try pushHeldOut(c, ds, try o.int("validation") ?? 0)
        },
        LuaFunction("idx") { c in
            // idx{images = path, labels = path, classes = 1 + the largest label, validation, mean = 0, std = 1}
            try c.arity(1, 1)
            let o = try LuaOptions(c, 1, known: ["images", "labels", "classes", "validation", "mean", "std"])
            guard let imagesPath = try o.string("images"), let labelsPath = try o.string("labels") else {
                throw c.error("expected options images and labels (paths of IDX files)")
            }
            let images = try IDXFile.read(path: imagesPath), labels = try IDXFile.read(path: labelsPath)
            guard images.shape.count >= 2, labels.shape.count == 1, images.shape[0] == labels.shape[0] else {
                throw c.error("images of shape \(describeShape(images.shape)) and labels of shape \(describeShape(labels.shape)) do not pair (N×… and N)")
            }
            let classes = try o.int("classes") ?? (Int(labels.bytes.max() ?? 0) + 1)
            guard classes >= 1 else { throw c.error("classes must be at least 1, got \(classes)") }
            // [N, H, W] images are one-channel samples [1, H, W]; other ranks keep their shape.
            let sample = images.shape.count == 3 ? [1] + images.shape.dropFirst() : Array(images.shape.dropFirst())
            let ds = try Dataset(name: (imagesPath as NSString).lastPathComponent, images: images.bytes, labels: labels.bytes,
                                 sampleShape: sample, classes: classes, mean: try o.float("mean") ?? 0, std: try o.float("std") ?? 1)
            return try pushHeldOut(c, ds, try o.int("validation") ?? 0)
        },
    ]

    /// Pushes a data set, or its first part and the last `validation` samples held out.
    static func pushHeldOut(_ c: LuaCall, _ ds: Dataset, _ validation: Int) throws -> Int32 {
        guard validation > 0 else { return dataset.push(c, ds) }
        let (rest, held) = try ds.split(last: validation)
        dataset.push(c, rest)
        return dataset.push(c, held) + 1
    }

    static func install(_ L: OpaquePointer) {
        dataset.install(L)
        iterator.install(L)
    }
}

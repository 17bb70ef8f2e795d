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
        LuaFunction("sample_shape") { c in try c.arity(1, 1); return c.push(ints: try dataset.check(c, 1).sampleShape) },
        LuaFunction("batches") { c in
            // batches(size [, {shuffle = false, seed = <from lp.manual_seed>, flatten = false, drop_last = false, prefetch = true}])
            try c.arity(2, 3)
            let ds = try dataset.check(c, 1)
            let size = try c.int(2, "batch size")
            let o = try LuaOptions(c, 3, known: ["shuffle", "seed", "flatten", "drop_last", "prefetch"])
            let shuffle = try o.bool("shuffle") ?? false, flatten = try o.bool("flatten") ?? false
            let dropLast = try o.bool("drop_last") ?? false, prefetch = try o.bool("prefetch") ?? true
            let seed = try o.int("seed").map { UInt64(bitPattern: Int64($0)) } ?? RandomGenerator.shared.next()
            return iterator.push(c, try BatchIterator(ds, batchSize: size, shuffle: shuffle, seed: seed, flatten: flatten, dropLast: dropLast, prefetch: prefetch))
        },
        LuaFunction("split") { c in
            // split(sizes [, {shuffle = false, seed}]) → consecutive parts of those sizes, and the rest
            try c.arity(2, 3)
            let ds = try dataset.check(c, 1)
            let sizes = lua_type(c.L, 2) == LUA_TNUMBER ? [try c.int(2, "size")] : try c.intList(2, "sizes")
            let parts = try ds.split(sizes: sizes, order: try order(c, 3, ds.count))
            for p in parts { dataset.push(c, p) }
            return Int32(parts.count)
        },
        LuaFunction("per_class") { c in
            // per_class(n [, {shuffle = false, seed}]) → n samples of every class (fewer where a class has fewer)
            try c.arity(2, 3)
            let ds = try dataset.check(c, 1)
            return dataset.push(c, try ds.perClass(try c.int(2, "samples a class"), order: try order(c, 3, ds.count)))
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
            return c.push("Dataset \(d.name): \(d.count) samples of \(describeShape(d.sampleShape)), " + (d.classes > 0 ? "\(d.classes) classes" : "value targets"))
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
            let o = try LuaOptions(c, 1, known: ["split", "root", "validation", "normalize", "augment"])
            let ds = try CIFAR.load10(split: try o.string("split") ?? "train", root: try o.string("root"),
                                      normalize: try o.bool("normalize") ?? true)
            return try pushHeldOut(c, ds, try o.int("validation") ?? 0, augment: try o.get("augment") { try augmentation(c, $0) })
        },
        LuaFunction("cifar100") { c in
            // cifar100{split, root = $LOPPER_DATA/cifar-100-binary, labels = "fine"|"coarse", validation, normalize}
            try c.arity(0, 1)
            let o = try LuaOptions(c, 1, known: ["split", "root", "labels", "validation", "normalize", "augment"])
            let labels = try o.string("labels") ?? "fine"
            guard labels == "fine" || labels == "coarse" else { throw c.error("labels must be \"fine\" or \"coarse\", got \"\(labels)\"") }
            let ds = try CIFAR.load100(split: try o.string("split") ?? "train", root: try o.string("root"),
                                       coarse: labels == "coarse", normalize: try o.bool("normalize") ?? true)
            return try pushHeldOut(c, ds, try o.int("validation") ?? 0, augment: try o.get("augment") { try augmentation(c, $0) })
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
        LuaFunction("tensors") { c in
            // tensors{x = X [N,…], y = Y [N] classes 1..C or [N,…] values, classes = C, targets = "classes"|"values"}
            try c.arity(1, 1)
            let o = try LuaOptions(c, 1, known: ["x", "y"] + targetKeys)
            guard let x = try o.tensor("x"), let y = try o.tensor("y") else { throw c.error("expected options x and y (tensors)") }
            return try pushTensorDataset(c, o, name: "tensors", x: x, y: y, firstClass: 1)
        },
        LuaFunction("load") { c in
            // load{x = "x.npy", y = "y.npy"} or load{file = "d.safetensors", x = "x", y = "y"}: classes 0-based
            // in files (NumPy's and PyTorch's habit) unless first_class says otherwise
            try c.arity(1, 1)
            let o = try LuaOptions(c, 1, known: ["file", "x", "y"] + targetKeys)
            let xName = try o.string("x") ?? "x", yName = try o.string("y") ?? "y"
            let x: Tensor, y: Tensor, name: String
            if let file = try o.string("file") {
                let tensors = Dictionary(try Safetensors.load(file).tensors, uniquingKeysWith: { a, _ in a })
                func named(_ n: String) throws -> Tensor {
                    guard let t = tensors[n] else { throw c.error("\(file) holds no tensor '\(n)' (it holds: \(tensors.keys.sorted().joined(separator: ", ")))") }
                    return t
                }
                (x, y, name) = (try named(xName), try named(yName), (file as NSString).lastPathComponent)
            } else {
                guard try o.string("x") != nil, try o.string("y") != nil else {
                    throw c.error("expected x and y (paths of .npy files), or file (a .safetensors file) and the names of x and y in it")
                }
                (x, y, name) = (try Npy.load(xName), try Npy.load(yName), (xName as NSString).lastPathComponent)
            }
            return try pushTensorDataset(c, o, name: name, x: x, y: y, firstClass: 0)
        },
        LuaFunction("augment") { c in
            // augment(data, "cifar" | {padding, flip, mean, std, transform} | nil) → the data set, augmented as batches are drawn
            try c.arity(2, 2)
            let ds = try dataset.check(c, 1)
            return dataset.push(c, try ds.augmented(c.isNil(2) ? nil : try augmentation(c, 2)))
        },
        LuaFunction("corrupt") { c in
            // corrupt(x, {noise = "gaussian"|"uniform", strength, min, max}) → x with noise added, clamped
            try c.arity(2, 2)
            let x = try c.tensor(1, "an input tensor")
            let o = try LuaOptions(c, 2, known: ["noise", "strength", "min", "max"])
            guard let s = try o.float("strength"), s >= 0, s.isFinite else { throw c.error("expected option strength, a number ≥ 0") }
            let noise: Tensor
            switch try o.string("noise") ?? "gaussian" {
            case "gaussian": noise = try Tensor.randn(x.shape, std: s)
            case "uniform": noise = try Tensor.rand(x.shape, low: -s, high: s)
            case let other: throw c.error("unknown noise '\(other)' (known: gaussian, uniform)")
            }
            let noisy = try Autograd.noGrad { try x.detach().add(noise) }
            let low = try o.float("min"), high = try o.float("max")
            return c.push(low == nil && high == nil ? noisy : try noisy.clamp(min: low, max: high))
        },
        LuaFunction("subset") { c in
            // subset(data, indices) → the samples at those 1-based indices (a list or a tensor), sharing storage
            try c.arity(2, 2)
            let ds = try dataset.check(c, 1)
            let indices: [Int]
            if let t = c.optTensor(2) {
                let flat = try t.contiguous()
                indices = try (0..<flat.count).map { k in
                    let v = flat.data[k]
                    guard v == v.rounded(), abs(v) < 16_777_216 else { throw c.error("indices must be whole numbers, got \(v)") }
                    return Int(v)
                }
            } else {
                indices = try c.intList(2, "indices")
            }
            return dataset.push(c, try ds.subset(indices.map { $0 - 1 }))
        },
    ]

    /// A Lua transform function(x, y) → x [, y], called on each batch.
    static func transformFunction(_ c: LuaCall, _ i: Int32, _ what: String) throws -> (Tensor, Tensor) throws -> (Tensor, Tensor) {
        guard lua_type(c.L, i) == LUA_TFUNCTION else { throw c.error("expected \(what) to be a function(x, y), got \(c.typeName(i))") }
        let f = LuaReference(c.L, lua_absindex(c.L, i))
        return { x, y in
            let L = f.L
            try f.call(2, results: 2) { pushTensor(L, x); pushTensor(L, y) }
            defer { lp_pop(L, 2) }
            guard let nx = lp_to_tensor(L, -2) else {
                throw LuaError("\(what): the function returned \(String(cString: lp_typename_at(L, -2))), expected a tensor (and optionally the targets)")
            }
            let ny = lp_to_tensor(L, -1)
            guard ny != nil || lua_type(L, -1) == LUA_TNIL else {
                throw LuaError("\(what): the function's second result is a \(String(cString: lp_typename_at(L, -1))), expected the targets as a tensor or nothing")
            }
            return (Unmanaged<Tensor>.fromOpaque(nx).takeUnretainedValue(), ny.map { Unmanaged<Tensor>.fromOpaque($0).takeUnretainedValue() } ?? y)
        }
    }

    /// An augmentation: "cifar" (pad 4, crop, flip) or {padding, flip, mean, std, transform}.
    static func augmentation(_ c: LuaCall, _ i: Int32) throws -> Augmentation {
        if lua_type(c.L, i) == LUA_TSTRING {
            let name = try c.string(i, "augment")
            guard name == "cifar" else { throw c.error("unknown augmentation '\(name)' (known: cifar, or a table {padding, flip, mean, std, transform})") }
            return .cifar
        }
        let o = try LuaOptions(c, i, known: ["padding", "flip", "mean", "std", "transform"])
        var a = Augmentation()
        a.padding = try o.int("padding") ?? 0
        a.flip = try o.bool("flip") ?? false
        func floats(_ key: String) throws -> [Float]? {
            try o.get(key) { k in
                lua_type(c.L, k) == LUA_TNUMBER ? [Float(try c.number(k, key))] : try c.numberList(k, key).map(Float.init)
            }
        }
        a.mean = try floats("mean")
        a.std = try floats("std")
        a.transform = try o.get("transform") { try transformFunction(c, $0, "transform") }
        return a
    }

    /// Options shared by lp.data.tensors and lp.data.load: how to read the targets.
    static let targetKeys = ["classes", "targets", "first_class", "validation"]

    /// A data set of `x` and `y`: classes when `y` is [N] of whole numbers from `first_class`
    /// on (or `targets = "classes"`), else values.
    static func pushTensorDataset(_ c: LuaCall, _ o: LuaOptions, name: String, x: Tensor, y: Tensor, firstClass: Int) throws -> Int32 {
        let base = Float(try o.int("first_class") ?? firstClass)
        guard base == 0 || base == 1 else { throw c.error("first_class must be 0 or 1, got \(Int(base))") }
        let y1 = try y.contiguous()
        let whole = y1.rank == 1 && (0..<y1.count).allSatisfy { let v = y1.data[$0]; return v >= base && v == v.rounded() && v < 16_777_216 }
        let ds: Dataset
        switch try o.string("targets") ?? (whole ? "classes" : "values") {
        case "classes":
            guard whole else {
                throw c.error("targets = \"classes\" needs y of shape [N] holding classes \(Int(base)), \(Int(base) + 1), …; got \(describeShape(y.shape))")
            }
            let labels = (0..<y1.count).map { Int32(y1.data[$0] - base) }
            ds = try Dataset(name: name, x: x, labels: labels, classes: try o.int("classes") ?? Int((labels.max() ?? 0) + 1))
        case "values": ds = try Dataset(name: name, x: x, values: y)
        case let other: throw c.error("targets must be \"classes\" or \"values\", got \"\(other)\"")
        }
        return try pushHeldOut(c, ds, try o.int("validation") ?? 0)
    }

    /// The order `{shuffle = false, seed}` at `i` asks for: nil for the stored one, else a
    /// permutation seeded by `seed` (default drawn from lp.manual_seed's generator).
    static func order(_ c: LuaCall, _ i: Int32, _ count: Int) throws -> [Int]? {
        let o = try LuaOptions(c, i, known: ["shuffle", "seed"])
        let seed = try o.int("seed").map { UInt64(bitPattern: Int64($0)) } ?? RandomGenerator.shared.next()
        guard try o.bool("shuffle") ?? false else { return nil }
        var order = Array(0..<count)
        Tensor.shuffle(&order, generator: RandomGenerator(seed: seed))
        return order
    }

    /// Pushes a data set, or its first part and the last `validation` samples held out;
    /// `augment` applies to the first (the training samples) only.
    static func pushHeldOut(_ c: LuaCall, _ ds: Dataset, _ validation: Int, augment: Augmentation? = nil) throws -> Int32 {
        guard validation > 0 else { return dataset.push(c, try ds.augmented(augment)) }
        let (rest, held) = try ds.split(last: validation)
        dataset.push(c, try rest.augmented(augment))
        return dataset.push(c, held) + 1
    }

    static func install(_ L: OpaquePointer) {
        dataset.install(L)
        iterator.install(L)
    }
}

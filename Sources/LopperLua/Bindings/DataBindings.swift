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
            var shuffle = false, flatten = false, dropLast = false
            var seed = RandomGenerator.shared.next()
            if !c.isNil(3) {
                guard lua_type(c.L, 3) == LUA_TTABLE else { throw c.error("expected options as a table, got \(c.typeName(3))") }
                var f = c.field(3, "shuffle"); shuffle = try c.bool(f, "shuffle", default: false); c.pop()
                f = c.field(3, "flatten"); flatten = try c.bool(f, "flatten", default: false); c.pop()
                f = c.field(3, "drop_last"); dropLast = try c.bool(f, "drop_last", default: false); c.pop()
                f = c.field(3, "seed"); if !c.isNil(f) { seed = UInt64(bitPattern: Int64(try c.int(f, "seed"))) }; c.pop()
            }
            return iterator.push(c, try BatchIterator(ds, batchSize: size, shuffle: shuffle, seed: seed, flatten: flatten, dropLast: dropLast))
        },
        LuaFunction("all") { c in
            // all([{flatten = false}]) → every sample as x, y (for evaluation).
            try c.arity(1, 2)
            let ds = try dataset.check(c, 1)
            var flatten = false
            if lua_type(c.L, 2) == LUA_TTABLE { let f = c.field(2, "flatten"); flatten = try c.bool(f, "flatten", default: false); c.pop() }
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
            var split = "train", validation = 0, root = FashionMNIST.defaultRoot, normalize = true
            if lua_type(c.L, 1) == LUA_TTABLE {
                var f = c.field(1, "split"); if !c.isNil(f) { split = try c.string(f, "split") }; c.pop()
                f = c.field(1, "validation"); if !c.isNil(f) { validation = try c.int(f, "validation") }; c.pop()
                f = c.field(1, "root"); if !c.isNil(f) { root = try c.string(f, "root") }; c.pop()
                f = c.field(1, "normalize"); normalize = try c.bool(f, "normalize", default: true); c.pop()
            } else if !c.isNil(1) {
                throw c.error("expected options as a table, got \(c.typeName(1))")
            }
            let ds = try FashionMNIST.load(split: split, root: root, normalize: normalize)
            guard validation > 0 else { return dataset.push(c, ds) }
            let (rest, held) = try ds.split(last: validation)
            dataset.push(c, rest)
            return dataset.push(c, held) + 1
        },
    ]

    static func install(_ L: OpaquePointer) {
        dataset.install(L)
        iterator.install(L)
    }
}

/// A Float32 tensor: a row-major view (shape, strides, offset) of a shared `Storage`.
/// Views made by `reshape`, `transpose`, `narrow`, `select` … share the storage, so
/// writing through one is seen by the others, as in Torch7 and PyTorch.
public final class Tensor {
    public let storage: Storage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int

    /// Whether gradients flow to this tensor (set on leaves; results of recorded ops
    /// inherit it).
    public var requiresGrad = false
    /// The accumulated gradient of a leaf after `backward`.
    public var grad: Tensor?
    /// The recorded operation that produced this tensor (nil for leaves).
    public internal(set) var gradFn: GradNode?
    /// A pruning mask of this tensor's shape (1 keeps, 0 removes). Setting one does not
    /// change values; optimizers, state loading and rewinding keep masked entries at zero.
    public var mask: Tensor?
    /// Functions given this tensor's gradient during backward, in order; one that returns
    /// a tensor replaces the gradient passed on (module backward hooks, `register_hook`).
    public var gradHooks: [(Tensor) throws -> Tensor?]?
    /// Marks a tensor of a Lua-written module as a buffer: state that is saved and loaded
    /// with the parameters but not trained (`as_buffer`).
    public var isBuffer = false
    /// Whether backward keeps this non-leaf tensor's gradient in `grad` (`retain_grad`).
    public var retainsGrad = false

    public init(storage: Storage, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new zero-filled contiguous tensor. Fails on an impossible shape (negative or
    /// overflowing sizes) or past the memory budget.
    public convenience init(shape: [Int]) throws {
        let n = try Shape.elementCount(shape)
        self.init(storage: try Storage(count: n, shape: shape), shape: shape,
                  strides: Shape.contiguousStrides(shape), offset: 0)
    }

    /// A new contiguous tensor whose elements the caller writes before reading.
    convenience init(uninitializedShape shape: [Int]) throws {
        let n = try Shape.elementCount(shape)
        self.init(storage: try Storage(count: n, zeroed: false, shape: shape), shape: shape,
                  strides: Shape.contiguousStrides(shape), offset: 0)
    }

    /// A new contiguous tensor holding `values` in row-major order.
    public convenience init(shape: [Int], values: [Float]) throws {
        let n = try Shape.checkedCount(shape, op: "tensor")
        guard n == values.count else {
            throw TensorError("tensor: shape \(describeShape(shape)) needs \(n) values, got \(values.count)")
        }
        try self.init(shape: shape)
        values.withUnsafeBufferPointer { src in
            guard let s = src.baseAddress else { return }
            data.update(from: s, count: values.count)
        }
    }

    /// A 0-d tensor holding one number.
    public convenience init(scalar: Float) {
        self.init(storage: Storage(few: 1), shape: [], strides: [], offset: 0)
        data[0] = scalar
    }

    /// Number of elements.
    public var count: Int { Shape.count(shape) }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Pointer to the first element of this view.
    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.base + offset }

    /// Whether the elements lie in row-major order without gaps (size-1 dims ignored).
    public var isContiguous: Bool {
        var expected = 1
        for d in stride(from: rank - 1, through: 0, by: -1) where shape[d] != 1 {
            if strides[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }

    /// This tensor if contiguous, else a contiguous copy.
    public func contiguous() throws -> Tensor { isContiguous ? self : try clone() }

    /// A contiguous copy with its own storage.
    public func clone() throws -> Tensor {
        try unrecordedClone().recorded("clone", [self]) { g in [g] }
    }

    /// A contiguous copy, outside the autograd graph.
    func unrecordedClone() throws -> Tensor {
        let out = try Tensor(uninitializedShape: shape)
        try out.copyElements(from: self)
        return out
    }

    /// The elements in row-major order (read in place: no copy of the tensor is made).
    public func toArray() -> [Float] {
        if isContiguous { return Array(UnsafeBufferPointer(start: data, count: count)) }
        return [Float](unsafeUninitializedCapacity: count) { buf, initialized in
            let o = buf.baseAddress!
            var k = 0
            StridedLoop.run(shape: shape, strides: [strides]) { off, n, st in
                let p = self.data + off[0], s = st[0]
                for i in 0..<n { (o + k + i).initialize(to: p[i * s]) }
                k += n
            }
            initialized = count
        }
    }

    /// The single element of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else {
            throw TensorError("item: expected a tensor with one element, got shape \(describeShape(shape))")
        }
        return data[0]
    }

    /// Storage offset of the element at 0-based `index` (unchecked).
    @inline(__always)
    public func elementOffset(_ index: [Int]) -> Int {
        var o = 0
        for d in 0..<index.count { o += index[d] * strides[d] }
        return o
    }

    /// Reads the element at a 0-based multi-index (unchecked).
    public subscript(_ index: Int...) -> Float {
        get { data[elementOffset(index)] }
        set { data[elementOffset(index)] = newValue }
    }

    /// Whether several elements of this view share one memory cell (a stride of 0 over a
    /// dimension longer than 1, as `expand` makes): an in-place write would land twice.
    public var hasInternalOverlap: Bool {
        count > 0 && Swift.zip(shape, strides).contains { $0.0 > 1 && $0.1 == 0 }
    }

    /// Whether two tensors view overlapping memory of the same storage.
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    /// Copies `source` (same element count, any layout) into this tensor's shape, row-major.
    func copyElements(from source: Tensor) throws {
        if source.isContiguous && isContiguous {
            data.update(from: source.data, count: count)
            return
        }
        let src = source.shape == shape ? source : try source.reshapedView(shape)
        StridedLoop.run(shape: shape, strides: [strides, src.strides]) { off, n, st in
            let o = self.data + off[0], s = src.data + off[1]
            let so = st[0], ss = st[1]
            for i in 0..<n { o[i * so] = s[i * ss] }
        }
    }
}

extension Tensor {
    /// A view of the same elements with another shape when the layout allows it, else a
    /// view of a contiguous copy (same count is the caller's duty).
    func reshapedView(_ newShape: [Int]) throws -> Tensor {
        let c = isContiguous ? self : try unrecordedClone()
        return Tensor(storage: c.storage, shape: newShape,
                      strides: Shape.contiguousStrides(newShape), offset: c.offset)
    }
}

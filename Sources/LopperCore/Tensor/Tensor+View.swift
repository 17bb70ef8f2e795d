/// Shape operations. All but `cat`, `stack` and a `reshape` of a non-contiguous tensor
/// return views that share storage with their input.
extension Tensor {
    /// Resolves one -1 in `shape` from the element count.
    func inferShape(_ newShape: [Int], op: String) throws -> [Int] {
        var shape = newShape
        let holes = shape.indices.filter { shape[$0] == -1 }
        if holes.count > 1 { throw TensorError("\(op): only one size may be -1, got \(describeShape(newShape))") }
        if let bad = shape.first(where: { $0 < -1 }) {
            throw TensorError("\(op): invalid size \(bad) in \(describeShape(newShape))")
        }
        // The sizes asked for are counted with overflow checks before anything else.
        let known: Int
        do { known = try Shape.checkedCount(shape.filter { $0 != -1 }, op: op) } catch {
            throw TensorError("\(op): shape \(describeShape(newShape)) has more elements than any tensor can hold (at most 2^60)")
        }
        if let h = holes.first {
            guard known > 0, count % known == 0 else {
                throw TensorError("\(op): cannot reshape \(describeShape(self.shape)) (\(count) elements) into \(describeShape(newShape))")
            }
            shape[h] = count / known
        }
        guard Shape.count(shape) == count else {
            throw TensorError("\(op): cannot reshape \(describeShape(self.shape)) (\(count) elements) into \(describeShape(newShape)) (\(Shape.count(shape)) elements)")
        }
        return shape
    }

    /// Same elements, another shape; a view when contiguous, else a copy.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        try reshapedView(try inferShape(newShape, op: "reshape"))
            .recorded("reshape", [self]) { [s = shape] g in [try g.reshape(s)] }
    }

    /// Same elements, another shape, always a view: the tensor must be contiguous.
    public func view(_ newShape: [Int]) throws -> Tensor {
        let shape = try inferShape(newShape, op: "view")
        guard isContiguous else {
            throw TensorError("view: tensor of shape \(describeShape(self.shape)) is not contiguous; use reshape or contiguous()")
        }
        return Tensor(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape), offset: offset)
            .recorded("view", [self]) { [s = self.shape] g in [try g.reshape(s)] }
    }

    /// Swaps two dimensions.
    public func transpose(_ d0: Int, _ d1: Int) throws -> Tensor {
        let a = try Shape.normalize(dim: d0, rank: rank, op: "transpose")
        let b = try Shape.normalize(dim: d1, rank: rank, op: "transpose")
        var p = Array(0..<rank)
        p.swapAt(a, b)
        return try permute(p)
    }

    /// Reorders dimensions: output dimension i is input dimension dims[i].
    public func permute(_ dims: [Int]) throws -> Tensor {
        guard dims.count == rank else {
            throw TensorError("permute: expected \(rank) dimensions for shape \(describeShape(shape)), got \(dims.count)")
        }
        let norm = try dims.map { try Shape.normalize(dim: $0, rank: rank, op: "permute") }
        guard Set(norm).count == rank else {
            throw TensorError("permute: dimensions must be a permutation, got \(describeShape(dims))")
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, d) in norm.enumerated() { inverse[d] = i }
        return Tensor(storage: storage, shape: norm.map { shape[$0] }, strides: norm.map { strides[$0] }, offset: offset)
            .recorded("permute", [self]) { g in [try g.permute(inverse)] }
    }

    /// Removes size-1 dimensions (all of them, or only `dim`).
    public func squeeze(_ dim: Int? = nil) throws -> Tensor {
        var keep = Array(0..<rank).filter { shape[$0] != 1 }
        if let dim {
            let d = try Shape.normalize(dim: dim, rank: rank, op: "squeeze")
            keep = Array(0..<rank).filter { $0 != d || shape[$0] != 1 }
        }
        return Tensor(storage: storage, shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
            .recorded("squeeze", [self]) { [s = shape] g in [try g.reshape(s)] }
    }

    /// Inserts a size-1 dimension at `dim` (0...rank; negative counts from rank+1).
    public func unsqueeze(_ dim: Int) throws -> Tensor {
        let d = dim < 0 ? dim + rank + 1 : dim
        guard d >= 0 && d <= rank else {
            throw TensorError("unsqueeze: dimension \(dim) is out of range for a \(rank)-d tensor")
        }
        var s = shape, st = strides
        s.insert(1, at: d)
        st.insert(d < rank ? strides[d] * shape[d] : 1, at: d)
        return Tensor(storage: storage, shape: s, strides: st, offset: offset)
            .recorded("unsqueeze", [self]) { [s = shape] g in [try g.reshape(s)] }
    }

    /// Elements start..<start+length along `dim`.
    public func narrow(_ dim: Int, _ start: Int, _ length: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "narrow")
        guard rank > 0, start >= 0, length >= 0, start <= shape[d], length <= shape[d] - start else {
            throw TensorError("narrow: range start \(start) length \(length) does not fit dimension \(d) of size \(rank > 0 ? shape[d] : 0)")
        }
        var s = shape
        s[d] = length
        return Tensor(storage: storage, shape: s, strides: strides, offset: offset + start * strides[d])
            .recorded("narrow", [self]) { [s = shape] g in [try g.placed(into: s, dim: d, start: start)] }
    }

    /// A zero tensor of `shape` holding self at `start` along `dim` (narrow's backward).
    func placed(into shape: [Int], dim: Int, start: Int) throws -> Tensor {
        let out = try Tensor(shape: shape)
        try Autograd.noGrad { try out.narrow(dim, start, self.shape[dim]) }.copyElements(from: self)
        return out.recorded("narrow_backward", [self]) { [n = self.shape[dim]] g in [try g.narrow(dim, start, n)] }
    }

    /// The slice at `index` along `dim`, with that dimension removed.
    public func select(_ dim: Int, _ index: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "select")
        guard rank > 0, index >= 0, index < shape[d] else {
            throw TensorError("select: index \(index) is out of range for dimension \(d) of size \(rank > 0 ? shape[d] : 0)")
        }
        var s = shape, st = strides
        s.remove(at: d)
        st.remove(at: d)
        return Tensor(storage: storage, shape: s, strides: st, offset: offset + index * strides[d])
            .recorded("select", [self]) { [s = shape] g in [try g.unsqueeze(d).placed(into: s, dim: d, start: index)] }
    }

    /// A view repeating size-1 dimensions to `target` (stride 0), NumPy broadcasting rules.
    public func expand(_ target: [Int]) throws -> Tensor {
        try Shape.checkedCount(target, op: "expand")
        let out = try Shape.broadcast(shape, target, op: "expand")
        guard out == target else {
            throw TensorError("expand: cannot expand \(describeShape(shape)) to \(describeShape(target))")
        }
        return Tensor(storage: storage, shape: target,
                      strides: Shape.broadcastStrides(shape: shape, strides: strides, to: target), offset: offset)
            .recorded("expand", [self]) { [s = shape] g in [try g.sumTo(s)] }
    }

    /// Concatenates along an existing dimension; all other sizes must match.
    public static func cat(_ tensors: [Tensor], dim: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("cat: expected at least one tensor, got none") }
        let d = try Shape.normalize(dim: dim, rank: first.rank, op: "cat")
        guard first.rank > 0 else { throw TensorError("cat: cannot concatenate 0-d tensors; use stack") }
        var total = 0
        for (i, t) in tensors.enumerated() {
            var a = t.shape, b = first.shape
            guard a.count == b.count else {
                throw TensorError("cat: tensor \(i + 1) has shape \(describeShape(t.shape)), expected \(first.rank) dimensions like \(describeShape(first.shape))")
            }
            a[d] = 0; b[d] = 0
            guard a == b else {
                throw TensorError("cat: tensor \(i + 1) has shape \(describeShape(t.shape)), which does not match \(describeShape(first.shape)) outside dimension \(d + 1)")
            }
            total += t.shape[d]
        }
        var shape = first.shape
        shape[d] = total
        let out = try Tensor(shape: shape)
        var start = 0
        var starts: [Int] = []
        for t in tensors {
            starts.append(start)
            try Autograd.noGrad { try out.narrow(d, start, t.shape[d]) }.copyElements(from: t)
            start += t.shape[d]
        }
        return out.recorded("cat", tensors) { g in
            try Swift.zip(tensors, starts).map { t, s in t.requiresGrad ? try g.narrow(d, s, t.shape[d]) : nil }
        }
    }

    /// Stacks same-shape tensors along a new dimension.
    public static func stack(_ tensors: [Tensor], dim: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("stack: expected at least one tensor, got none") }
        for (i, t) in tensors.enumerated() where t.shape != first.shape {
            throw TensorError("stack: tensor \(i + 1) has shape \(describeShape(t.shape)), expected \(describeShape(first.shape))")
        }
        let d = dim < 0 ? dim + first.rank + 1 : dim
        guard d >= 0 && d <= first.rank else {
            throw TensorError("stack: dimension \(dim) is out of range for \(first.rank + 1)-d result")
        }
        return try cat(tensors.map { try $0.unsqueeze(d) }, dim: d)
    }
}

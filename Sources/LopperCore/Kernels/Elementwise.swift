/// Drivers for elementwise kernels. `@inline(__always)` lets each caller's closure be
/// inlined into the loops, so `a + b` compiles to a plain vectorisable loop.
extension Tensor {
    /// out[i] = f(self[i]) into a new contiguous tensor.
    @inline(__always)
    public func map(_ f: (Float) -> Float) throws -> Tensor {
        let out = try Tensor(uninitializedShape: shape)
        let o = out.data
        if isContiguous {
            let a = data
            for i in 0..<count { o[i] = f(a[i]) }
            return out
        }
        StridedLoop.run(shape: shape, strides: [out.strides, strides]) { off, n, st in
            let po = o + off[0], pa = self.data + off[1], sa = st[1]
            for i in 0..<n { po[i] = f(pa[i * sa]) }
        }
        return out
    }

    /// self[i] = f(self[i]) in place.
    @inline(__always)
    public func apply_(_ f: (Float) -> Float) {
        StridedLoop.run(shape: shape, strides: [strides]) { off, n, st in
            let p = self.data + off[0], s = st[0]
            if s == 1 { for i in 0..<n { p[i] = f(p[i]) } } else { for i in 0..<n { p[i * s] = f(p[i * s]) } }
        }
    }

    /// out = f(a, b) with broadcasting, into a new contiguous tensor.
    @inline(__always)
    public static func zip(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) throws -> Tensor {
        let shape = a.shape == b.shape ? a.shape : try Shape.broadcast(a.shape, b.shape, op: op)
        let out = try Tensor(uninitializedShape: shape)
        if a.shape == b.shape && a.isContiguous && b.isContiguous {
            let o = out.data, pa = a.data, pb = b.data
            for i in 0..<out.count { o[i] = f(pa[i], pb[i]) }
            return out
        }
        let sa = Shape.broadcastStrides(shape: a.shape, strides: a.strides, to: shape)
        let sb = Shape.broadcastStrides(shape: b.shape, strides: b.strides, to: shape)
        StridedLoop.run(shape: shape, strides: [out.strides, sa, sb]) { off, n, st in
            let po = out.data + off[0], pa = a.data + off[1], pb = b.data + off[2]
            let ia = st[1], ib = st[2]
            if ia == 1 && ib == 1 {
                for i in 0..<n { po[i] = f(pa[i], pb[i]) }
            } else if ia == 1 && ib == 0 {
                let y = pb[0]
                for i in 0..<n { po[i] = f(pa[i], y) }
            } else if ia == 0 && ib == 1 {
                let x = pa[0]
                for i in 0..<n { po[i] = f(x, pb[i]) }
            } else {
                for i in 0..<n { po[i] = f(pa[i * ia], pb[i * ib]) }
            }
        }
        return out
    }

    /// self = f(self, other) in place; `other` must broadcast to self's shape.
    @inline(__always)
    public func zip_(_ other: Tensor, op: String, _ f: (Float, Float) -> Float) throws {
        let shape = try Shape.broadcast(self.shape, other.shape, op: op)
        guard shape == self.shape else {
            throw TensorError("\(op): cannot write a result of shape \(describeShape(shape)) into a tensor of shape \(describeShape(self.shape))")
        }
        // Reading `other` while writing self is safe elementwise unless they overlap differently.
        let src = other.sharesStorage(with: self) && (other.offset != offset || other.strides != strides) ? try other.unrecordedClone() : other
        let sb = Shape.broadcastStrides(shape: src.shape, strides: src.strides, to: shape)
        StridedLoop.run(shape: shape, strides: [strides, sb]) { off, n, st in
            let p = self.data + off[0], q = src.data + off[1]
            let ip = st[0], iq = st[1]
            if ip == 1 && iq == 1 { for i in 0..<n { p[i] = f(p[i], q[i]) } }
            else { for i in 0..<n { p[i * ip] = f(p[i * ip], q[i * iq]) } }
        }
    }

    /// out = f(c, a, b) with broadcasting of all three (for `where`).
    @inline(__always)
    public static func zip3(_ c: Tensor, _ a: Tensor, _ b: Tensor, op: String,
                            _ f: (Float, Float, Float) -> Float) throws -> Tensor {
        let shape = try Shape.broadcast(try Shape.broadcast(c.shape, a.shape, op: op), b.shape, op: op)
        let out = try Tensor(uninitializedShape: shape)
        let sc = Shape.broadcastStrides(shape: c.shape, strides: c.strides, to: shape)
        let sa = Shape.broadcastStrides(shape: a.shape, strides: a.strides, to: shape)
        let sb = Shape.broadcastStrides(shape: b.shape, strides: b.strides, to: shape)
        StridedLoop.run(shape: shape, strides: [out.strides, sc, sa, sb]) { off, n, st in
            let po = out.data + off[0], pc = c.data + off[1], pa = a.data + off[2], pb = b.data + off[3]
            let ic = st[1], ia = st[2], ib = st[3]
            for i in 0..<n { po[i] = f(pc[i * ic], pa[i * ia], pb[i * ib]) }
        }
        return out
    }
}

import CBLAS

/// Matrix products through OpenBLAS `cblas_sgemm`. Transposed views are passed to BLAS as
/// transposed operands, without a copy.
extension Tensor {
    /// How a 2-d view is handed to sgemm: transposed or not, and its leading dimension.
    private func gemmOperand() throws -> (Tensor, CBLAS_TRANSPOSE, Int32) {
        let r = shape[0], c = shape[1]
        if strides[1] == 1 && strides[0] >= Swift.max(1, c) { return (self, CblasNoTrans, Int32(strides[0])) }
        if strides[0] == 1 && strides[1] >= Swift.max(1, r) { return (self, CblasTrans, Int32(strides[1])) }
        let copy = try clone()
        return (copy, CblasNoTrans, Int32(Swift.max(1, c)))
    }

    /// c = alpha · a·b + beta · c for 2-d views (c must be contiguous rows). Products of
    /// 2^19 multiply-adds or more are split over the workers by rows of c, or by columns
    /// when it has few rows; each part is one single-threaded sgemm over the whole k. The
    /// split is fixed by the shapes and the worker count, so results repeat exactly.
    public static func gemm(_ a: Tensor, _ b: Tensor, into c: Tensor, alpha: Float = 1, beta: Float = 0) throws {
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        // BLAS takes 32-bit sizes and leading dimensions.
        let limit = Int(Int32.max)
        guard [m, k, n, a.strides[0], a.strides[1], b.strides[0], b.strides[1], c.strides[0]].allSatisfy({ $0 <= limit }) else {
            throw TensorError("matmul: [\(m),\(k)] · [\(k),\(n)] has a size or stride past 2^31-1, beyond what BLAS takes")
        }
        if m == 0 || n == 0 { return }
        if k == 0 { if beta == 0 { c.zero_() } else { c.mul_(beta) }; return }
        let (av, ta, lda) = try a.gemmOperand()
        let (bv, tb, ldb) = try b.gemmOperand()
        let ldc = c.strides[0]
        if m == 1 && (n <= 4096 || m * n * k < 1 << 19) {
            // One row: a matrix-vector product, which sgemm's packing only slows down.
            let (rows, cols) = tb == CblasNoTrans ? (k, n) : (n, k)
            cblas_sgemv(CblasRowMajor, tb == CblasNoTrans ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), alpha,
                        bv.data, ldb, av.data, ta == CblasNoTrans ? 1 : lda, beta, c.data, 1)
            return
        }
        let parts = m * n * k >= 1 << 19 ? Parallel.workers : 1
        let byRows = m >= n || m >= 64 * parts
        // One piece per worker: each sgemm call packs all of b (or a) again, so finer pieces
        // cost more than they save; a piece a preempted worker holds is the caller's wait.
        let split = byRows ? m : n, step = (split + 16 * parts - 1) / (16 * parts) * 16
        Parallel.forEachChunk((split + step - 1) / step) { _, pieces in
            for piece in pieces {
                let lo = piece * step, size = Swift.min(step, split - lo)
                if byRows {
                    let aPart = av.data + (ta == CblasNoTrans ? lo * Int(lda) : lo)
                    cblas_sgemm(CblasRowMajor, ta, tb, Int32(size), Int32(n), Int32(k), alpha,
                                aPart, lda, bv.data, ldb, beta, c.data + lo * ldc, Int32(ldc))
                } else {
                    let bPart = bv.data + (tb == CblasNoTrans ? lo : lo * Int(ldb))
                    cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(size), Int32(k), alpha,
                                av.data, lda, bPart, ldb, beta, c.data + lo, Int32(ldc))
                }
            }
        }
    }

    /// NumPy `matmul`: 1-d·1-d is a dot product, 1-d operands gain and then lose a unit
    /// dimension, and leading (batch) dimensions broadcast.
    public func matmul(_ other: Tensor) throws -> Tensor {
        if rank == 2 && other.rank == 2 && shape[1] == other.shape[0] {
            let out = try Tensor(uninitializedShape: [shape[0], other.shape[1]])
            try Tensor.gemm(self, other, into: out)
            return out.recorded("matmul", [self, other]) { [a = self] g in
                [a.requiresGrad ? try g.matmul(other.transpose(0, 1)) : nil,
                 other.requiresGrad ? try a.transpose(0, 1).matmul(g) : nil]
            }
        }
        if (rank == 1 || other.rank == 1) && (requiresGrad || other.requiresGrad) && Autograd.isEnabled {
            // Vector cases through recorded unit dimensions, so they differentiate.
            if rank == 1 { return try unsqueeze(0).matmul(other).squeeze(-2 + (other.rank == 1 ? 1 : 0)) }
            return try matmul(other.unsqueeze(1)).squeeze(-1)
        }
        let misaligned = TensorError("matmul: \(describeShape(shape)) and \(describeShape(other.shape)) do not align")
        guard rank >= 1 && other.rank >= 1 else {
            throw TensorError("matmul: expected tensors with at least 1 dimension, got \(describeShape(shape)) and \(describeShape(other.shape))")
        }
        let a = rank == 1 ? try unsqueeze(0) : self
        let b = other.rank == 1 ? try other.unsqueeze(1) : other
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        guard k == k2 else { throw misaligned }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = try Shape.broadcast(batchA, batchB, op: "matmul")
        var outShape = batch + [m, n]
        let out = try Tensor(uninitializedShape: outShape)
        if batch.isEmpty {
            try Tensor.gemm(a, b, into: out)
        } else {
            let ea = try a.expand(batch + [m, k]), eb = try b.expand(batch + [k2, n])
            let nb = Shape.count(batch)
            let bStrides = Shape.contiguousStrides(batch)
            for i in 0..<nb {
                var (va, vb, vo) = (ea, eb, out)
                var rest = i
                for d in 0..<batch.count {
                    let idx = rest / bStrides[d]
                    rest %= bStrides[d]
                    va = try va.select(0, idx); vb = try vb.select(0, idx); vo = try vo.select(0, idx)
                }
                try Tensor.gemm(va, vb, into: vo)
            }
        }
        if other.rank == 1 { outShape.removeLast() }
        if rank == 1 { outShape.remove(at: outShape.count - (other.rank == 1 ? 1 : 2)) }
        let result = outShape == out.shape ? out : try out.view(outShape)
        return result.recorded("matmul", [self, other]) { [a = self] g in
            [a.requiresGrad ? try g.matmul(other.transpose(-1, -2)).sumTo(a.shape) : nil,
             other.requiresGrad ? try a.transpose(-1, -2).matmul(g).sumTo(other.shape) : nil]
        }
    }
}

extension Tensor {
    /// x·Wᵀ + b for x of shape [N, in] (or [..., in]), W of shape [out, in] (PyTorch's
    /// layout). One GEMM writes onto the broadcast bias; the weight gradient gᵀ·x comes out
    /// in W's own layout, so no transposed copy is made in either direction.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        guard weight.rank == 2 else { throw TensorError("linear: expected a weight of shape [out,in], got \(describeShape(weight.shape))") }
        let (outF, inF) = (weight.shape[0], weight.shape[1])
        guard rank >= 1, shape[rank - 1] == inF else {
            throw TensorError("linear: input \(describeShape(shape)) does not match weight \(describeShape(weight.shape)) (expected [...,\(inF)])")
        }
        if let bias, bias.shape != [outF] {
            throw TensorError("linear: expected a bias of shape [\(outF)], got \(describeShape(bias.shape))")
        }
        if rank != 2 {
            let flat = try reshape([-1, inF]).linear(weight, bias: bias)
            return try flat.reshape(Array(shape.dropLast()) + [outF])
        }
        let n = shape[0]
        let out = try Tensor(uninitializedShape: [n, outF])
        if let bias {
            let b = try bias.contiguous()
            for r in 0..<n { (out.data + r * outF).update(from: b.data, count: outF) }
        }
        try Tensor.gemm(self, try weight.transpose(0, 1), into: out, beta: bias == nil ? 0 : 1)
        var inputs = [self, weight]
        if let bias { inputs.append(bias) }
        return out.recorded("linear", inputs) { [x = self] g in
            [x.requiresGrad ? try g.matmul(weight) : nil,
             weight.requiresGrad ? try g.transpose(0, 1).matmul(x) : nil,
             bias?.requiresGrad == true ? try g.sum(dim: 0) : nil]
        }
    }
}


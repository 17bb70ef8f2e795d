import Foundation

/// Softmax, log-softmax and the losses. Each is a recorded op or built from recorded ops,
/// so losses differentiate twice (GraSP's Hessian-gradient products need that).
extension Tensor {
    /// log(softmax(x)) along `dim`, computed stably (x − max − log Σ exp(x − max)).
    public func logSoftmax(dim: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "log_softmax")
        let y = try Autograd.noGrad { () throws -> Tensor in
            let shifted = try sub(max(dim: d, keepdim: true))
            return try shifted.sub(shifted.exp().sum(dim: d, keepdim: true).log())
        }
        return y.recorded("log_softmax", [self]) { [x = self, saved = y.detach()] g in
            let out = try reuse(saved) { try x.logSoftmax(dim: d) }
            return [try g.sub(out.exp().mul(g.sum(dim: d, keepdim: true)))]
        }
    }

    /// softmax(x) along `dim`.
    public func softmax(dim: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "softmax")
        let y = try Autograd.noGrad { try logSoftmax(dim: d).exp() }
        return y.recorded("softmax", [self]) { [x = self, saved = y.detach()] g in
            let s = try reuse(saved) { try x.softmax(dim: d) }
            return [try s.mul(g.sub(g.mul(s).sum(dim: d, keepdim: true)))]
        }
    }

    /// A [N, C] matrix with `on` at each row's class (0-based `classes`) and `off` elsewhere.
    static func classMatrix(_ classes: [Int], count c: Int, on: Float, off: Float) throws -> Tensor {
        let t = try Tensor(shape: [classes.count, c])
        t.fill_(off)
        for (i, k) in classes.enumerated() { t.data[i * c + k] = on }
        return t
    }

    /// Checks [N, C] scores against N class indices given 1-based as floats; returns them 0-based.
    func classIndices(_ target: Tensor, op: String) throws -> [Int] {
        guard rank == 2 else { throw TensorError("\(op): expected scores of shape [N,C], got \(describeShape(shape))") }
        guard target.shape == [shape[0]] else {
            throw TensorError("\(op): expected targets of shape [\(shape[0])] for scores \(describeShape(shape)), got \(describeShape(target.shape))")
        }
        let c = shape[1]
        return try target.toArray().map { v in
            guard v == v.rounded(), v >= 1, Int(v) <= c else {
                throw TensorError("\(op): target \(v) is not a class index in 1..\(c)")
            }
            return Int(v) - 1
        }
    }

    /// Mean negative log-likelihood of `target` classes (1-based) under log-probabilities.
    public func nllLoss(_ target: Tensor) throws -> Tensor {
        let classes = try classIndices(target, op: "nll_loss")
        let pick = try Tensor.classMatrix(classes, count: shape[1], on: 1, off: 0)
        return try mul(pick).sum().mul(-1 / Float(shape[0]))
    }

    /// Mean cross-entropy of logits against 1-based class targets, with optional label
    /// smoothing ε: the target distribution is (1−ε) on the class plus ε/C everywhere.
    public func crossEntropy(_ target: Tensor, labelSmoothing eps: Float = 0) throws -> Tensor {
        guard eps >= 0 && eps <= 1 else { throw TensorError("cross_entropy: label smoothing must be in [0, 1], got \(eps)") }
        let classes = try classIndices(target, op: "cross_entropy")
        let c = shape[1]
        let weights = try Tensor.classMatrix(classes, count: c, on: 1 - eps + eps / Float(c), off: eps / Float(c))
        return try logSoftmax(dim: 1).mul(weights).sum().mul(-1 / Float(shape[0]))
    }

    /// Mean squared error.
    public func mseLoss(_ target: Tensor) throws -> Tensor {
        guard shape == target.shape else {
            throw TensorError("mse_loss: shapes \(describeShape(shape)) and \(describeShape(target.shape)) differ")
        }
        let d = try sub(target)
        return try d.mul(d).mean()
    }

    /// Fraction of rows whose largest score is the (1-based) target class.
    public func accuracy(_ target: Tensor) throws -> Double {
        let classes = try classIndices(target, op: "accuracy")
        let predicted = try argmax(dim: 1).toArray()
        let hits = Swift.zip(predicted, classes).filter { Int($0) == $1 }.count
        return classes.isEmpty ? 0 : Double(hits) / Double(classes.count)
    }
}

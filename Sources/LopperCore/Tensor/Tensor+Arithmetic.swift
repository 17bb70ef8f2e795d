import Foundation
import LopperKernels

/// Elementwise arithmetic, comparisons and activation functions, with NumPy broadcasting.
/// Comparisons give tensors of 0 and 1 (and no gradient).

/// A result saved for backward, detached so that a node never holds its own output (a
/// reference cycle). When the backward pass is itself recorded (double backward), the
/// value is recomputed from the input so that its dependence on the input is recorded too.
@inline(__always)
func reuse(_ saved: Tensor, _ recompute: () throws -> Tensor) rethrows -> Tensor {
    Autograd.isEnabled ? try recompute() : saved
}
extension Tensor {
    public func add(_ o: Tensor) throws -> Tensor {
        try Tensor.zip(self, o, op: "add") { $0 + $1 }.recorded("add", [self, o]) { [a = self] g in
            [try g.sumTo(a.shape), try g.sumTo(o.shape)]
        }
    }
    public func sub(_ o: Tensor) throws -> Tensor {
        try Tensor.zip(self, o, op: "sub") { $0 - $1 }.recorded("sub", [self, o]) { [a = self] g in
            [try g.sumTo(a.shape), try g.neg().sumTo(o.shape)]
        }
    }
    public func mul(_ o: Tensor) throws -> Tensor {
        try Tensor.zip(self, o, op: "mul") { $0 * $1 }.recorded("mul", [self, o]) { [a = self] g in
            [a.requiresGrad ? try g.mul(o).sumTo(a.shape) : nil, o.requiresGrad ? try g.mul(a).sumTo(o.shape) : nil]
        }
    }
    public func div(_ o: Tensor) throws -> Tensor {
        try Tensor.zip(self, o, op: "div") { $0 / $1 }.recorded("div", [self, o]) { [a = self] g in
            [a.requiresGrad ? try g.div(o).sumTo(a.shape) : nil,
             o.requiresGrad ? try g.mul(a).div(o.mul(o)).neg().sumTo(o.shape) : nil]
        }
    }
    public func pow(_ o: Tensor) throws -> Tensor {
        let out = try Tensor.zip(self, o, op: "pow") { Foundation.powf($0, $1) }
        return out.recorded("pow", [self, o]) { [a = self, y = out.detach()] g in
            [a.requiresGrad ? try g.mul(o).mul(a.pow(o.sub(1))).sumTo(a.shape) : nil,
             o.requiresGrad ? try g.mul(reuse(y) { try a.pow(o) }).mul(a.log()).sumTo(o.shape) : nil]
        }
    }
    public func maximum(_ o: Tensor) throws -> Tensor {
        try Tensor.zip(self, o, op: "maximum") { Swift.max($0, $1) }.recorded("maximum", [self, o]) { [a = self] g in
            let pick = try a.ge(o)
            return [try g.mul(pick).sumTo(a.shape), try g.mul(pick.rsub(1)).sumTo(o.shape)]
        }
    }
    public func minimum(_ o: Tensor) throws -> Tensor {
        try Tensor.zip(self, o, op: "minimum") { Swift.min($0, $1) }.recorded("minimum", [self, o]) { [a = self] g in
            let pick = try a.le(o)
            return [try g.mul(pick).sumTo(a.shape), try g.mul(pick.rsub(1)).sumTo(o.shape)]
        }
    }

    public func add(_ s: Float) throws -> Tensor { try map { $0 + s }.recorded("add", [self]) { g in [g] } }
    public func sub(_ s: Float) throws -> Tensor { try map { $0 - s }.recorded("sub", [self]) { g in [g] } }
    /// s - self.
    public func rsub(_ s: Float) throws -> Tensor { try map { s - $0 }.recorded("rsub", [self]) { g in [try g.neg()] } }
    public func mul(_ s: Float) throws -> Tensor { try map { $0 * s }.recorded("mul", [self]) { g in [try g.mul(s)] } }
    public func div(_ s: Float) throws -> Tensor { try map { $0 / s }.recorded("div", [self]) { g in [try g.div(s)] } }
    /// s / self.
    public func rdiv(_ s: Float) throws -> Tensor {
        try map { s / $0 }.recorded("rdiv", [self]) { [x = self] g in [try g.mul(-s).div(x.mul(x))] }
    }
    public func pow(_ s: Float) throws -> Tensor {
        let out: Tensor
        if s == 2 { out = try map { $0 * $0 } } else if s == 0.5 { out = try map { $0.squareRoot() } } else { out = try map { Foundation.powf($0, s) } }
        return out.recorded("pow", [self]) { [x = self] g in [try g.mul(x.pow(s - 1).mul(s))] }
    }
    /// s ^ self.
    public func rpow(_ s: Float) throws -> Tensor {
        let out = try map { Foundation.powf(s, $0) }
        return out.recorded("rpow", [self]) { [x = self, y = out.detach()] g in
            [try g.mul(reuse(y) { try x.rpow(s) }).mul(Foundation.logf(s))]
        }
    }

    public func gt(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "gt") { $0 > $1 ? 1 : 0 } }
    public func lt(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "lt") { $0 < $1 ? 1 : 0 } }
    public func ge(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "ge") { $0 >= $1 ? 1 : 0 } }
    public func le(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "le") { $0 <= $1 ? 1 : 0 } }
    public func eq(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "eq") { $0 == $1 ? 1 : 0 } }
    public func ne(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "ne") { $0 != $1 ? 1 : 0 } }
    public func gt(_ s: Float) throws -> Tensor { try map { $0 > s ? 1 : 0 } }
    public func lt(_ s: Float) throws -> Tensor { try map { $0 < s ? 1 : 0 } }
    public func ge(_ s: Float) throws -> Tensor { try map { $0 >= s ? 1 : 0 } }
    public func le(_ s: Float) throws -> Tensor { try map { $0 <= s ? 1 : 0 } }
    public func eq(_ s: Float) throws -> Tensor { try map { $0 == s ? 1 : 0 } }
    public func ne(_ s: Float) throws -> Tensor { try map { $0 != s ? 1 : 0 } }

    public func neg() throws -> Tensor { try map { -$0 }.recorded("neg", [self]) { g in [try g.neg()] } }
    public func abs() throws -> Tensor { try map { Swift.abs($0) }.recorded("abs", [self]) { [x = self] g in [try g.mul(x.sign())] } }
    public func sign() throws -> Tensor { try map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }
    public func sqrt() throws -> Tensor {
        let out: Tensor
        if isContiguous {
            out = try Tensor(uninitializedShape: shape)
            lk_sqrt(out.data, data, count)
        } else {
            out = try map { $0.squareRoot() }
        }
        return out.recorded("sqrt", [self]) { [x = self, y = out.detach()] g in [try g.div(reuse(y) { try x.sqrt() }.mul(2))] }
    }
    public func exp() throws -> Tensor {
        let out = try map { Foundation.expf($0) }
        return out.recorded("exp", [self]) { [x = self, y = out.detach()] g in [try g.mul(reuse(y) { try x.exp() })] }
    }
    public func log() throws -> Tensor { try map { Foundation.logf($0) }.recorded("log", [self]) { [x = self] g in [try g.div(x)] } }
    /// Its backward is one pass (g where x > 0) unless it is itself recorded.
    public func relu() throws -> Tensor {
        try map { $0 > 0 ? $0 : 0 }.recorded("relu", [self]) { [x = self] g in
            if Autograd.isEnabled { return [try g.mul(x.gt(0))] }
            return [try Tensor.zip(g, x, op: "relu") { $1 > 0 ? $0 : 0 }]
        }
    }
    public func sigmoid() throws -> Tensor {
        let out = try map { 1 / (1 + Foundation.expf(-$0)) }
        return out.recorded("sigmoid", [self]) { [x = self, y = out.detach()] g in
            let s = try reuse(y) { try x.sigmoid() }
            return [try g.mul(s).mul(s.rsub(1))]
        }
    }
    public func tanh() throws -> Tensor {
        let out = try map { Foundation.tanhf($0) }
        return out.recorded("tanh", [self]) { [x = self, y = out.detach()] g in
            let t = try reuse(y) { try x.tanh() }
            return [try g.mul(t.mul(t).rsub(1))]
        }
    }

    /// Limits values to [low, high]; either bound may be absent. The gradient passes where
    /// the value was inside the bounds.
    public func clamp(min low: Float?, max high: Float?) throws -> Tensor {
        if let low, let high, low > high {
            throw TensorError("clamp: min \(low) is greater than max \(high)")
        }
        let lo = low ?? -.infinity, hi = high ?? .infinity
        return try map { Swift.min(Swift.max($0, lo), hi) }.recorded("clamp", [self]) { [x = self] g in
            [try g.mul(x.map { $0 >= lo && $0 <= hi ? 1 : 0 })]
        }
    }

    /// Elements of `a` where `condition` is non-zero, else of `b` (all broadcast).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try zip3(condition, a, b, op: "where") { $0 != 0 ? $1 : $2 }.recorded("where", [a, b]) { g in
            let keep = try condition.ne(0)
            return [try g.mul(keep).sumTo(a.shape), try g.mul(keep.rsub(1)).sumTo(b.shape)]
        }
    }

    // In-place variants: they write into this tensor's storage (and every view of it).
    public func fill_(_ v: Float) { apply_ { _ in v } }
    public func zero_() { fill_(0) }
    public func add_(_ o: Tensor, alpha: Float = 1) throws { try zip_(o, op: "add_") { $0 + alpha * $1 } }
    public func sub_(_ o: Tensor) throws { try zip_(o, op: "sub_") { $0 - $1 } }
    public func mul_(_ o: Tensor) throws { try zip_(o, op: "mul_") { $0 * $1 } }
    public func div_(_ o: Tensor) throws { try zip_(o, op: "div_") { $0 / $1 } }
    public func add_(_ s: Float) { apply_ { $0 + s } }
    public func mul_(_ s: Float) { apply_ { $0 * s } }
    public func clamp_(min low: Float?, max high: Float?) {
        let lo = low ?? -.infinity, hi = high ?? .infinity
        apply_ { Swift.min(Swift.max($0, lo), hi) }
    }
    /// Copies `source` (broadcast to this shape) into this tensor.
    public func copy_(_ source: Tensor) throws { try zip_(source, op: "copy_") { $1 } }
    /// Sets elements where `mask` is non-zero to `value`.
    public func masked_fill_(_ mask: Tensor, _ value: Float) throws {
        try zip_(mask, op: "masked_fill_") { $1 != 0 ? value : $0 }
    }
}

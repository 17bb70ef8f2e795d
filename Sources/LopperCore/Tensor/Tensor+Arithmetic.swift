import Foundation

/// Elementwise arithmetic, comparisons and activation functions, with NumPy broadcasting.
/// Comparisons give tensors of 0 and 1.
extension Tensor {
    public func add(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "add") { $0 + $1 } }
    public func sub(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "sub") { $0 - $1 } }
    public func mul(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "mul") { $0 * $1 } }
    public func div(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "div") { $0 / $1 } }
    public func pow(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "pow") { Foundation.powf($0, $1) } }
    public func maximum(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "maximum") { Swift.max($0, $1) } }
    public func minimum(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "minimum") { Swift.min($0, $1) } }

    public func add(_ s: Float) -> Tensor { map { $0 + s } }
    public func sub(_ s: Float) -> Tensor { map { $0 - s } }
    /// s - self.
    public func rsub(_ s: Float) -> Tensor { map { s - $0 } }
    public func mul(_ s: Float) -> Tensor { map { $0 * s } }
    public func div(_ s: Float) -> Tensor { map { $0 / s } }
    /// s / self.
    public func rdiv(_ s: Float) -> Tensor { map { s / $0 } }
    public func pow(_ s: Float) -> Tensor {
        if s == 2 { return map { $0 * $0 } }
        if s == 0.5 { return map { $0.squareRoot() } }
        return map { Foundation.powf($0, s) }
    }
    /// s ^ self.
    public func rpow(_ s: Float) -> Tensor { map { Foundation.powf(s, $0) } }

    public func gt(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "gt") { $0 > $1 ? 1 : 0 } }
    public func lt(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "lt") { $0 < $1 ? 1 : 0 } }
    public func ge(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "ge") { $0 >= $1 ? 1 : 0 } }
    public func le(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "le") { $0 <= $1 ? 1 : 0 } }
    public func eq(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "eq") { $0 == $1 ? 1 : 0 } }
    public func ne(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, op: "ne") { $0 != $1 ? 1 : 0 } }
    public func gt(_ s: Float) -> Tensor { map { $0 > s ? 1 : 0 } }
    public func lt(_ s: Float) -> Tensor { map { $0 < s ? 1 : 0 } }
    public func ge(_ s: Float) -> Tensor { map { $0 >= s ? 1 : 0 } }
    public func le(_ s: Float) -> Tensor { map { $0 <= s ? 1 : 0 } }
    public func eq(_ s: Float) -> Tensor { map { $0 == s ? 1 : 0 } }
    public func ne(_ s: Float) -> Tensor { map { $0 != s ? 1 : 0 } }

    public func neg() -> Tensor { map { -$0 } }
    public func abs() -> Tensor { map { Swift.abs($0) } }
    public func sign() -> Tensor { map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }
    public func sqrt() -> Tensor { map { $0.squareRoot() } }
    public func exp() -> Tensor { map { Foundation.expf($0) } }
    public func log() -> Tensor { map { Foundation.logf($0) } }
    public func relu() -> Tensor { map { $0 > 0 ? $0 : 0 } }
    public func sigmoid() -> Tensor { map { 1 / (1 + Foundation.expf(-$0)) } }
    public func tanh() -> Tensor { map { Foundation.tanhf($0) } }

    /// Limits values to [low, high]; either bound may be absent.
    public func clamp(min low: Float?, max high: Float?) throws -> Tensor {
        if let low, let high, low > high {
            throw TensorError("clamp: min \(low) is greater than max \(high)")
        }
        let lo = low ?? -.infinity, hi = high ?? .infinity
        return map { Swift.min(Swift.max($0, lo), hi) }
    }

    /// Elements of `a` where `condition` is non-zero, else of `b` (all broadcast).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try zip3(condition, a, b, op: "where") { $0 != 0 ? $1 : $2 }
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

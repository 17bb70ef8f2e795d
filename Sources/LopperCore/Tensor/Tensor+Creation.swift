import Foundation

/// Tensor constructors: constant fills, ranges, identity and random tensors.
extension Tensor {
    static func checkShape(_ shape: [Int], op: String) throws {
        try Shape.checkedCount(shape, op: op)
    }

    public static func zeros(_ shape: [Int]) throws -> Tensor {
        try checkShape(shape, op: "zeros")
        return try Tensor(shape: shape)
    }

    public static func ones(_ shape: [Int]) throws -> Tensor { try full(shape, 1, op: "ones") }

    public static func full(_ shape: [Int], _ value: Float, op: String = "full") throws -> Tensor {
        try checkShape(shape, op: op)
        let t = try Tensor(shape: shape)
        t.fill_(value)
        return t
    }

    /// Values start, start+step, … below `stop` (above it for a negative step).
    public static func arange(_ start: Double, _ stop: Double, _ step: Double = 1) throws -> Tensor {
        guard step != 0, step.isFinite else { throw TensorError("arange: step must be a non-zero number, got \(step)") }
        guard start.isFinite, stop.isFinite else { throw TensorError("arange: start and stop must be finite, got \(start) and \(stop)") }
        let steps = ((stop - start) / step).rounded(.up)
        guard steps < Double(Shape.maxElements) else {
            throw TensorError("arange: \(start) to \(stop) by \(step) is \(steps) values, more than any tensor can hold")
        }
        let n = steps > 0 ? Int(steps) : 0
        let t = try Tensor(shape: [n])
        for i in 0..<n { t.data[i] = Float(start + Double(i) * step) }
        return t
    }

    /// `steps` evenly spaced values from start to end inclusive.
    public static func linspace(_ start: Double, _ end: Double, _ steps: Int) throws -> Tensor {
        guard steps >= 0 else { throw TensorError("linspace: steps must be non-negative, got \(steps)") }
        let t = try Tensor(shape: [steps])
        if steps == 1 { t.data[0] = Float(start) }
        if steps > 1 {
            let h = (end - start) / Double(steps - 1)
            for i in 0..<steps { t.data[i] = Float(start + Double(i) * h) }
            t.data[steps - 1] = Float(end)
        }
        return t
    }

    /// The n×m identity (square when m is nil).
    public static func eye(_ n: Int, _ m: Int? = nil) throws -> Tensor {
        let cols = m ?? n
        try checkShape([n, cols], op: "eye")
        let t = try Tensor(shape: [n, cols])
        for i in 0..<Swift.min(n, cols) { t.data[i * cols + i] = 1 }
        return t
    }

    /// Uniform in [low, high).
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1,
                            generator: RandomGenerator = .shared) throws -> Tensor {
        try checkShape(shape, op: "rand")
        let t = try Tensor(shape: shape)
        let span = high - low
        for i in 0..<t.count { t.data[i] = low + span * generator.uniformFloat() }
        return t
    }

    /// Normal with the given mean and standard deviation.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1,
                             generator: RandomGenerator = .shared) throws -> Tensor {
        try checkShape(shape, op: "randn")
        let t = try Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = mean + std * Float(generator.normal()) }
        return t
    }

    /// A random permutation of 0..<n (Fisher–Yates), as floats.
    /// Past 2^24, float32 no longer holds every integer: such a permutation would repeat values.
    public static func randperm(_ n: Int, generator: RandomGenerator = .shared) throws -> Tensor {
        try checkShape([n], op: "randperm")
        guard n <= 1 << 24 else {
            throw TensorError("randperm: n must be at most 16777216 (2^24, the largest float32 range of exact integers), got \(n)")
        }
        let t = try Tensor(uninitializedShape: [n])
        let p = t.data
        for i in 0..<n { p[i] = Float(i) }
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = generator.integer(below: i + 1)
                let v = p[i]; p[i] = p[j]; p[j] = v
            }
        }
        return t
    }

    /// Fisher–Yates shuffle with the given generator.
    public static func shuffle<T>(_ a: inout [T], generator: RandomGenerator) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, generator.integer(below: i + 1))
        }
    }
}

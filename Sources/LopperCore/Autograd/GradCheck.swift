/// Finite-difference checking of gradients, for tests and for users writing new ops,
/// losses or scores: compares backward's gradient of Σ f(x)·R (R fixed and random, so
/// every output element matters) with central differences (f(x+h) − f(x−h)) / 2h.
public enum GradCheck {
    /// The first disagreement found, or nil when every element agrees within
    /// `tolerance · max(1, |numeric|)`.
    public struct Mismatch: CustomStringConvertible {
        public var input: Int, element: Int
        public var analytic: Float, numeric: Float
        public var description: String { "input \(input + 1) element \(element + 1): analytic \(analytic) vs numeric \(numeric)" }
    }

    public static func check(_ inputs: [Tensor], step h: Float = 1e-2, tolerance: Float = 2e-2,
                             _ f: ([Tensor]) throws -> Tensor) throws -> Mismatch? {
        for x in inputs {
            guard x.isContiguous else { throw TensorError("gradcheck: inputs must be contiguous") }
            x.requiresGrad = true
            x.grad = nil
        }
        let out = try f(inputs)
        let weights = try Tensor.randn(out.shape, generator: RandomGenerator(seed: 99))
        try out.mul(weights).sum().backward()
        // Evaluated with recording on: f may itself differentiate (double-backward checks).
        func value() throws -> Double { Double(try f(inputs).mul(weights).sum().item()) }
        for (k, x) in inputs.enumerated() {
            let analytic = x.grad?.toArray() ?? [Float](repeating: 0, count: x.count)
            for i in 0..<x.count {
                let saved = x.data[i]
                x.data[i] = saved + h; let up = try value()
                x.data[i] = saved - h; let down = try value()
                x.data[i] = saved
                let numeric = Float((up - down) / Double(2 * h))
                if Swift.abs(numeric - analytic[i]) > tolerance * Swift.max(1, Swift.abs(numeric)) {
                    return Mismatch(input: k, element: i, analytic: analytic[i], numeric: numeric)
                }
            }
        }
        return nil
    }
}

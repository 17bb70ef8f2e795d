import Foundation

/// Seedable pseudo-random numbers, identical on every run and machine for a given seed.
///
/// Algorithm: xoshiro256** (Blackman & Vigna 2018), its 256-bit state filled from the seed
/// by SplitMix64. Uniform floats take the top 24 bits of a draw: `(x >> 40) · 2⁻²⁴`, in
/// [0, 1). Normal numbers use the Box–Muller transform in double precision on two 53-bit
/// uniforms, returning both numbers of each pair in turn.
public final class RandomGenerator {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)
    /// The second number of the last Box–Muller pair, if not yet returned.
    public private(set) var spareNormal: Double?
    public private(set) var seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state = (0, 0, 0, 0)
        reseed(seed)
    }

    /// Restarts the sequence from `seed`.
    public func reseed(_ seed: UInt64) {
        self.seed = seed
        var s = seed
        func splitmix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
        spareNormal = nil
    }

    /// The full state, for checkpoints: four words and the pending normal (NaN if none).
    public var snapshot: [UInt64] {
        [state.0, state.1, state.2, state.3, seed, (spareNormal ?? .nan).bitPattern]
    }

    public func restore(_ words: [UInt64]) throws {
        guard words.count == 6 else {
            throw TensorError("random state: expected 6 words, got \(words.count)")
        }
        // xoshiro's one fixed point: from an all-zero state it returns 0 for ever, and
        // rejection sampling (randperm, integer(below:)) would never finish.
        guard words[0] | words[1] | words[2] | words[3] != 0 else {
            throw TensorError("random state: all four state words are zero, which no generator reaches (a damaged checkpoint or cache entry?)")
        }
        state = (words[0], words[1], words[2], words[3])
        seed = words[4]
        let spare = Double(bitPattern: words[5])
        spareNormal = spare.isNaN ? nil : spare
    }

    /// Next 64 random bits.
    @inline(__always)
    public func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public func uniformFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in (0, 1] with 53 random bits.
    @inline(__always)
    public func uniformDoubleOpenZero() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// Standard normal.
    public func normal() -> Double {
        if let z = spareNormal { spareNormal = nil; return z }
        let u1 = uniformDoubleOpenZero(), u2 = uniformDoubleOpenZero()
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareNormal = r * Foundation.sin(angle)
        return r * Foundation.cos(angle)
    }

    /// Uniform integer in 0..<n (n > 0), without modulo bias (Lemire's method).
    public func integer(below n: Int) -> Int {
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// The generator used when none is given; `lp.manual_seed` reseeds it.
    nonisolated(unsafe) public static var shared = RandomGenerator(seed: 0x5EED)
}

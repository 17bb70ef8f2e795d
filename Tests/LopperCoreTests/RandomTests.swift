import XCTest
@testable import LopperCore

final class RandomTests: XCTestCase {
    func testSameSeedSameNumbers() {
        let a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        for _ in 0..<1000 { XCTAssertEqual(a.next(), b.next()) }
        let c = RandomGenerator(seed: 43)
        XCTAssertNotEqual(RandomGenerator(seed: 42).next(), c.next())
    }

    /// Pins the algorithm (SplitMix64-seeded xoshiro256**): these words must never change,
    /// or every seeded experiment would silently change with them.
    func testKnownSequence() {
        let g = RandomGenerator(seed: 0)
        // SplitMix64 from 0 gives the state words; the first outputs follow from them.
        XCTAssertEqual(g.state.0, 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(g.state.1, 0x6E78_9E6A_A1B9_65F4)
        let first = (0..<3).map { _ in g.next() }
        XCTAssertEqual(first, RandomGeneratorReference.xoshiro(state: [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4,
                                                                     0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC], count: 3))
    }

    func testReseedAndSnapshotRestore() throws {
        let g = RandomGenerator(seed: 7)
        _ = g.normal()  // leaves a spare normal pending
        let saved = g.snapshot
        let expected = (0..<5).map { _ in g.normal() }
        let h = RandomGenerator(seed: 1)
        try h.restore(saved)
        XCTAssertEqual((0..<5).map { _ in h.normal() }, expected)
        g.reseed(7)
        XCTAssertEqual(g.snapshot, RandomGenerator(seed: 7).snapshot)
    }

    func testDistributions() throws {
        let g = RandomGenerator(seed: 1)
        let u = try Tensor.rand([20000], generator: g)
        XCTAssertGreaterThanOrEqual(try u.min().item(), 0)
        XCTAssertLessThan(try u.max().item(), 1)
        XCTAssertEqual(try u.mean().item(), 0.5, accuracy: 0.01)
        let n = try Tensor.randn([20000], generator: g)
        XCTAssertEqual(try n.mean().item(), 0, accuracy: 0.03)
        XCTAssertEqual(try n.std().item(), 1, accuracy: 0.03)
        let p = try Tensor.randperm(10, generator: g).toArray().map(Int.init).sorted()
        XCTAssertEqual(p, Array(0..<10))
        for n in [1, 3, 1000] { XCTAssertTrue((0..<100).allSatisfy { _ in (0..<n).contains(g.integer(below: n)) }) }
    }
}

/// An independent transcription of xoshiro256** from its reference C code.
enum RandomGeneratorReference {
    static func xoshiro(state: [UInt64], count: Int) -> [UInt64] {
        var s = state
        func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
        return (0..<count).map { _ in
            let result = rotl(s[1] &* 5, 7) &* 9
            let t = s[1] << 17
            s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
            return result
        }
    }
}

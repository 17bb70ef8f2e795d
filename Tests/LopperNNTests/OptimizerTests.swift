import XCTest
import Foundation
@testable import LopperNN
import LopperCore

/// Optimizer steps against the formulas computed by hand in double precision.
final class OptimizerTests: XCTestCase {
    func parameter(_ values: [Float]) throws -> Tensor {
        let p = try Tensor(shape: [values.count], values: values)
        p.requiresGrad = true
        return p
    }

    func testSGDMomentumDampeningNesterovAndDecay() throws {
        for nesterov in [false, true] {
            let p = try parameter([1, -2])
            let sgd = try SGD([("w", p)], lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: nesterov)
            var w: [Double] = [1, -2], b: [Double] = [0, 0]
            for step in 0..<3 {
                let g: [Double] = [0.5 + Double(step), -0.25]
                p.grad = try Tensor(shape: [2], values: g.map(Float.init))
                try sgd.step()
                for k in 0..<2 {
                    let d = g[k] + 0.01 * w[k]
                    b[k] = step == 0 ? d : 0.9 * b[k] + d
                    w[k] -= 0.1 * (nesterov ? d + 0.9 * b[k] : b[k])
                }
            }
            XCTAssertEqual(p.toArray()[0], Float(w[0]), accuracy: 1e-6)
            XCTAssertEqual(p.toArray()[1], Float(w[1]), accuracy: 1e-6)
        }
        let q = try parameter([1])
        let damped = try SGD([("q", q)], lr: 1, momentum: 0.5, dampening: 0.5)
        for _ in 0..<2 { q.grad = try Tensor.ones([1]); try damped.step() }
        XCTAssertEqual(q.toArray()[0], 1 - 1 - (0.5 + 0.5), accuracy: 1e-6)
    }

    func testAdamAndAdamW() throws {
        for decoupled in [false, true] {
            let p = try parameter([0.5, -1])
            let adam = try Adam([("w", p)], lr: 0.01, betas: (0.9, 0.99), eps: 1e-8, weightDecay: 0.1, decoupled: decoupled)
            var w: [Double] = [0.5, -1], m: [Double] = [0, 0], v: [Double] = [0, 0]
            for t in 1...4 {
                let g: [Double] = [0.3 * Double(t), -0.7]
                p.grad = try Tensor(shape: [2], values: g.map(Float.init))
                try adam.step()
                for k in 0..<2 {
                    if decoupled { w[k] *= 1 - 0.01 * 0.1 }
                    let d = g[k] + (decoupled ? 0 : 0.1 * w[k])
                    m[k] = 0.9 * m[k] + 0.1 * d
                    v[k] = 0.99 * v[k] + 0.01 * d * d
                    let mh = m[k] / (1 - pow(0.9, Double(t))), vh = v[k] / (1 - pow(0.99, Double(t)))
                    w[k] -= 0.01 * mh / (vh.squareRoot() + 1e-8)
                }
            }
            XCTAssertEqual(Double(p.toArray()[0]), w[0], accuracy: 1e-6, decoupled ? "AdamW" : "Adam")
            XCTAssertEqual(Double(p.toArray()[1]), w[1], accuracy: 1e-6)
        }
    }

    func testStateIsInspectableAndResettableUnderAMask() throws {
        let p = try parameter([1, 2, 3])
        let sgd = try SGD([("w", p)], lr: 0.1, momentum: 0.9)
        p.grad = try Tensor.ones([3])
        try sgd.step()
        XCTAssertEqual(sgd.state[0]["momentum_buffer"]?.toArray(), [1, 1, 1])
        try sgd.resetState(0, keep: Tensor(shape: [3], values: [1, 0, 1]))
        XCTAssertEqual(sgd.state[0]["momentum_buffer"]?.toArray(), [1, 0, 1])
    }

    func testSchedules() throws {
        XCTAssertEqual(try BuiltinSchedule.step(every: 10, gamma: 0.5).factor(at: 25), 0.25)
        XCTAssertEqual(BuiltinSchedule.multistep([5, 8], gamma: 0.1).factor(at: 7), 0.1, accuracy: 1e-7)
        XCTAssertEqual(BuiltinSchedule.multistep([5, 8], gamma: 0.1).factor(at: 8), 0.01, accuracy: 1e-8)
        let cos = try BuiltinSchedule.cosine(total: 100, floor: 0.1)
        XCTAssertEqual(cos.factor(at: 0), 1, accuracy: 1e-6)
        XCTAssertEqual(cos.factor(at: 50), 0.55, accuracy: 1e-6)
        XCTAssertEqual(cos.factor(at: 200), 0.1, accuracy: 1e-6)
        let warm = try BuiltinSchedule.warmup(steps: 4, then: try BuiltinSchedule.step(every: 10, gamma: 0.1))
        XCTAssertEqual(try warm.factor(at: 0), 0.25)
        XCTAssertEqual(try warm.factor(at: 5), 1)
        XCTAssertEqual(try warm.factor(at: 12), 0.1, accuracy: 1e-7)
        let p = try parameter([0])
        let opt = try SGD([("w", p)], lr: 1)
        opt.schedule = try BuiltinSchedule.step(every: 1, gamma: 0.5)
        for _ in 0..<3 { p.grad = try Tensor.ones([1]); try opt.step() }
        XCTAssertEqual(p.toArray()[0], -(1 + 0.5 + 0.25))
        opt.iteration = 0   // learning-rate rewinding: the schedule starts over
        XCTAssertEqual(try opt.currentLR(), 1)
    }
}

import Foundation
import LopperCore

/// A learning-rate schedule: a factor of the base rate as a function of the step (0-based
/// count of optimizer steps taken). Schedules are plain values of the step, so rewinding a
/// schedule (Renda et al.'s learning-rate rewinding) is setting the optimizer's step.
public protocol Schedule: AnyObject {
    func factor(at step: Int) throws -> Float
    var summary: String { get }
}

/// The built-in schedules.
public final class BuiltinSchedule: Schedule {
    let body: (Int) -> Float
    public let summary: String

    init(_ summary: String, _ body: @escaping (Int) -> Float) {
        self.summary = summary
        self.body = body
    }

    public func factor(at step: Int) -> Float { body(step) }

    public static func constant() -> BuiltinSchedule { BuiltinSchedule("constant") { _ in 1 } }

    /// × gamma every `every` steps.
    public static func step(every: Int, gamma: Float) throws -> BuiltinSchedule {
        guard every > 0 else { throw TensorError("schedule.step: every must be positive, got \(every)") }
        return BuiltinSchedule("step(every=\(every), gamma=\(gamma))") { Foundation.powf(gamma, Float($0 / every)) }
    }

    /// × gamma at each milestone step reached.
    public static func multistep(_ milestones: [Int], gamma: Float) -> BuiltinSchedule {
        let sorted = milestones.sorted()
        return BuiltinSchedule("multistep(\(sorted), gamma=\(gamma))") { s in
            Foundation.powf(gamma, Float(sorted.filter { s >= $0 }.count))
        }
    }

    /// Cosine annealing from 1 to `floor` over `total` steps, then `floor`.
    public static func cosine(total: Int, floor: Float = 0) throws -> BuiltinSchedule {
        guard total > 0 else { throw TensorError("schedule.cosine: total must be positive, got \(total)") }
        return BuiltinSchedule("cosine(total=\(total), floor=\(floor))") { s in
            let t = Float(Swift.min(s, total)) / Float(total)
            return floor + (1 - floor) * 0.5 * (1 + Foundation.cosf(.pi * t))
        }
    }

    /// Linear warm-up from 1/steps to 1 over `steps` steps, then `after` (shifted by nothing:
    /// `after` sees the same step count).
    public static func warmup(steps: Int, then after: Schedule?) throws -> Schedule {
        guard steps > 0 else { throw TensorError("schedule.warmup: steps must be positive, got \(steps)") }
        return Warmup(steps: steps, after: after)
    }
}

/// Linear warm-up followed by another schedule.
final class Warmup: Schedule {
    let steps: Int
    let after: Schedule?
    init(steps: Int, after: Schedule?) { self.steps = steps; self.after = after }
    func factor(at step: Int) throws -> Float {
        let ramp = step < steps ? Float(step + 1) / Float(steps) : 1
        return ramp * (try after?.factor(at: step) ?? 1)
    }
    var summary: String { "warmup(\(steps))" + (after.map { " then " + $0.summary } ?? "") }
}

import Dispatch
import LopperCore

/// Wall-clock timing of a network on random inputs (`lp.benchmark`): what pruning buys.
public enum Benchmark {
    public enum Mode: String { case inference, train }

    /// Seconds of each of `repeats` timed passes after `warmup` untimed ones, on one batch
    /// of `batch` random samples of shape `input`. Inference: evaluation mode, no graph.
    /// Train: training mode, forward and backward of the outputs' sum (no optimizer step;
    /// the gradients are cleared after each pass). The net's mode and the script's random
    /// stream are left as they were.
    public static func time(_ net: Module, input: [Int], batch: Int, mode: Mode, repeats: Int, warmup: Int) throws -> [Double] {
        guard batch >= 1, !input.isEmpty, input.allSatisfy({ $0 >= 1 }) else {
            throw TensorError("benchmark: batch and every input size must be positive, got batch \(batch), input \(describeShape(input))")
        }
        guard (1...10_000).contains(repeats), (0...1_000).contains(warmup) else {
            throw TensorError("benchmark: repeats must be in 1…10000 and warmup in 0…1000, got \(repeats) and \(warmup)")
        }
        let x = try Tensor(shape: [batch] + input)
        let g = RandomGenerator(seed: 0xBE4C)
        x.apply_ { _ in Float(g.normal()) }
        let modes = net.namedModules().map { ($0.1, $0.1.training) }
        defer { for (m, on) in modes { m.training = on } }
        net.train(mode == .train)
        func pass() throws {
            switch mode {
            case .inference: _ = try Autograd.noGrad { try net(x) }
            case .train:
                try net(x).sum().backward()
                for p in net.parameters() { p.grad = nil }
            }
        }
        for _ in 0..<warmup { try pass() }
        return try (0..<repeats).map { _ in
            try StopRequest.check("benchmark", at: "a timed pass")
            let start = DispatchTime.now().uptimeNanoseconds
            try pass()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }
}

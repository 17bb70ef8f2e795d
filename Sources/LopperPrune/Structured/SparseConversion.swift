import Dispatch
import LopperCore
import LopperNN

/// Sparse storage where it pays: each pruned Linear and Conv2d is timed on this machine,
/// dense against compressed sparse rows, at the batch size that will be used, and the
/// faster is kept — the crossover density is measured, not assumed.
public enum SparseConversion {
    public struct Choice {
        public let name: String
        public let density: Double
        public let denseSeconds: Double, sparseSeconds: Double
        public var sparse: Bool { sparseSeconds < denseSeconds }
    }

    /// Replaces in `net`, in place, every Linear and Conv2d with zero weights whose sparse
    /// form is faster at `batch` samples; returns what was measured for each. Convolutions
    /// need the network's input shape (to know their own), else they stay dense.
    public static func convert(_ net: Module, batch: Int, inputShape: [Int]? = nil) throws -> [Choice] {
        guard batch >= 1 else { throw TensorError("compact: batch must be positive, got \(batch)") }
        var choices: [Choice] = []
        let g = RandomGenerator(seed: 0x5BA)
        let convInputs = try inputShapes(net, inputShape ?? net.inputShape)
        for (path, parent) in net.namedModules() {
            for (name, child) in parent.children {
                // Each candidate: its sparse form, density, a random input at `batch`, and its dense forward.
                let candidate: (Module, Double, [Int], (Tensor) throws -> Tensor)
                if let conv = child as? Conv2d, let shape = convInputs[ObjectIdentifier(conv)] {
                    let sparse = try SparseConv2d(conv)
                    candidate = (sparse, sparse.density, [batch] + shape.dropFirst(), { try conv.forward($0) })
                } else if let linear = child as? Linear {
                    let sparse = try SparseLinear(linear)
                    candidate = (sparse, sparse.density, [batch, linear.inFeatures], { try $0.linear(linear.weight, bias: linear.bias) })
                } else { continue }
                let (sparse, density, inputShape, dense) = candidate
                guard density < 1 else { continue }
                let x = try Tensor(shape: inputShape)
                x.apply_ { _ in Float(g.normal()) }
                let (denseTime, sparseTime) = try Autograd.noGrad {
                    (try median { _ = try dense(x) }, try median { _ = try sparse.forward(x) })
                }
                let choice = Choice(name: path.isEmpty ? name : path + "." + name, density: density,
                                    denseSeconds: denseTime, sparseSeconds: sparseTime)
                choices.append(choice)
                if choice.sparse { try parent.replaceChild(name, with: sparse) }
            }
        }
        try foldReLUs(net)
        return choices
    }

    /// Folds each ReLU that directly follows a SparseLinear in a Sequential into it (the
    /// layer rectifies its own output): at batch 1 a module call costs about as much as a
    /// small sparse layer. A ReLU with hooks stays. Returns the folded ReLUs' names.
    @discardableResult
    public static func foldReLUs(_ net: Module) throws -> [String] {
        var folded: [String] = []
        for (path, parent) in net.namedModules() {
            guard let seq = parent as? Sequential else { continue }
            let children = seq.children
            for (i, (_, child)) in children.enumerated().dropLast() {
                guard let sparse = child as? SparseLinear, !sparse.rectified else { continue }
                let (nextName, next) = children[i + 1]
                guard next.kind == "ReLU", next is Elementwise, next.hooks?.isEmpty ?? true else { continue }
                sparse.rectified = true
                try seq.removeChild(nextName)
                folded.append(path.isEmpty ? nextName : path + "." + nextName)
            }
        }
        return folded
    }

    /// The input shape of each convolution, from one pass of zeros (none when the network's
    /// input shape is unknown).
    static func inputShapes(_ net: Module, _ shape: [Int]?) throws -> [ObjectIdentifier: [Int]] {
        guard let shape else { return [:] }
        var seen: [ObjectIdentifier: [Int]] = [:], removals: [() -> Void] = []
        for (_, m) in net.namedModules() where m is Conv2d {
            let hooks = m.hookSet()
            let id = hooks.onForward { m, x, _ in seen[ObjectIdentifier(m)] = x.shape; return nil }
            removals.append { hooks.remove(id) }
        }
        defer { for r in removals { r() } }
        _ = try net.evaluating { try Autograd.noGrad { try net(Tensor(shape: [1] + shape)) } }
        return seen
    }

    /// The median of 7 timings of `body` (after one untimed call), each over enough calls
    /// to last about a tenth of a millisecond.
    static func median(_ body: () throws -> Void) throws -> Double {
        try body()
        let once = try seconds(1, body)
        let reps = max(1, min(1000, Int(1e-4 / max(once, 1e-9))))
        return try (0..<7).map { _ in try seconds(reps, body) / Double(reps) }.sorted()[3]
    }

    static func seconds(_ n: Int, _ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { try body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

import LopperCore
import LopperNN

extension Scores {
    /// SNIP (Lee et al. 2019) on one batch, first-order Taylor (Molchanov et al.) summed
    /// over several: |∂L/∂w ⊙ w|.
    static func gradientTimesWeight(_ net: Module, _ targets: [PrunableTensor], _ data: ScoreData, batches n: Int,
                                    rng: RandomGenerator) throws -> [Tensor] {
        var sums = try targets.map { try Tensor(filled: 0, shape: $0.tensor.shape) }
        for (x, y) in try batches(data, n, rng) {
            let g = try lossGradients(net, targets, x, y)
            sums = try Autograd.noGrad { try zip(sums, zip(g, targets)).map { s, gt in try s.add(gt.0.mul(gt.1.tensor.detach()).abs()) } }
        }
        return sums
    }

    /// |∂L/∂w| summed over batches.
    static func gradientMagnitude(_ net: Module, _ targets: [PrunableTensor], _ data: ScoreData, rng: RandomGenerator) throws -> [Tensor] {
        var sums = try targets.map { try Tensor(filled: 0, shape: $0.tensor.shape) }
        for (x, y) in try batches(data, data.batches, rng) {
            let g = try lossGradients(net, targets, x, y)
            sums = try Autograd.noGrad { try zip(sums, g).map { try $0.add($1.abs()) } }
        }
        return sums
    }

    /// GraSP (Wang et al. 2020): w ⊙ Hg, with g the gradient of the loss on logits divided
    /// by `temperature`, over `samplesPerClass` samples of each class. GraSP removes the
    /// largest −w ⊙ Hg, so this importance (its negation) removes the lowest. Hg is exact:
    /// the gradient of ⟨∇L, g⟩ by double backward.
    static func grasp(_ net: Module, _ targets: [PrunableTensor], _ data: ScoreData, rng: RandomGenerator) throws -> [Tensor] {
        let (x, y) = try balancedSample(data, rng)
        let g = try lossGradients(net, targets, x, y, temperature: data.temperature).map { $0.detach() }
        let live = try lossGradients(net, targets, x, y, temperature: data.temperature, createGraph: true)
        var z: Tensor?
        for (a, b) in zip(live, g) {
            let term = try a.mul(b).sum()
            z = try z.map { try $0.add(term) } ?? term
        }
        guard let z else { return [] }
        let hg = try z.gradients(wrt: targets.map { $0.tensor })
        return try Autograd.noGrad { try zip(hg, targets).map { try $0.mul($1.tensor.detach()) } }
    }

    /// `samplesPerClass` samples of every class, drawn in a shuffled order.
    static func balancedSample(_ data: ScoreData, _ rng: RandomGenerator) throws -> (Tensor, Tensor) {
        var order = Array(0..<data.dataset.count)
        Tensor.shuffle(&order, generator: rng)
        let picked = try data.dataset.perClass(data.samplesPerClass, order: order)
        guard picked.count > 0 else { throw TensorError("score grasp: the data set is empty") }
        return try picked.batch(Array(0..<picked.count)[...], flatten: false)
    }
}

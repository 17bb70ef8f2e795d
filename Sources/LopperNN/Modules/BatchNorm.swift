import LopperCore

/// Batch normalisation over the channel dimension (dim 2 of [N, C] / [N, C, L] for
/// BatchNorm1d, of [N, C, H, W] for BatchNorm2d). Training normalises with the batch's
/// mean and biased variance and updates running statistics (running_var takes the
/// unbiased variance, as PyTorch does); evaluation uses the running statistics. The
/// arithmetic is `Tensor.batchNorm` and `channelAffine` (native single passes), which
/// differentiate twice.
public final class BatchNorm: Module {
    public let weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVar: Tensor, batchesTracked: Tensor
    public let eps: Float, momentum: Float
    /// Input ranks accepted: [2, 3] for 1d, [4] for 2d.
    let ranks: [Int]

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, spatial: Bool) throws {
        guard channels > 0 else { throw TensorError("BatchNorm: channels must be positive, got \(channels)") }
        weight = try Tensor.ones([channels])
        bias = try Tensor(shape: [channels])
        runningMean = try Tensor(shape: [channels])
        runningVar = try Tensor.ones([channels])
        batchesTracked = try Tensor(shape: [])
        self.eps = eps
        self.momentum = momentum
        ranks = spatial ? [4] : [2, 3]
        super.init(kind: spatial ? "BatchNorm2d" : "BatchNorm1d")
        addParameter("weight", weight)
        addParameter("bias", bias)
        addBuffer("running_mean", runningMean)
        addBuffer("running_var", runningVar)
        addBuffer("num_batches_tracked", batchesTracked)
    }

    public var channels: Int { weight.count }
    public override var summary: String { "\(kind)(\(channels))" }

    public override func copyStructure() throws -> Module {
        try BatchNorm(channels, eps: eps, momentum: momentum, spatial: ranks == [4])
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard ranks.contains(x.rank), x.shape[1] == channels else {
            let want = ranks == [4] ? "[N,\(channels),H,W]" : "[N,\(channels)] or [N,\(channels),L]"
            throw TensorError("\(kind): expected an input of shape \(want), got \(describeShape(x.shape))")
        }
        if training {
            let n = x.count / channels
            guard n > 1 else { throw TensorError("\(kind): training needs more than one value per channel, got input \(describeShape(x.shape))") }
            let (y, mean, variance) = try x.batchNorm(weight: weight, bias: bias, eps: eps)
            try Autograd.noGrad {
                let m = momentum
                try runningMean.copy_(runningMean.mul(1 - m).add(mean.mul(m)))
                try runningVar.copy_(runningVar.mul(1 - m).add(variance.mul(Float(n) / Float(n - 1) * m)))
                batchesTracked.add_(1)
            }
            return y
        }
        // Evaluation: one affine map per channel, from the running statistics.
        let scale = try weight.div(runningVar.add(eps).sqrt())
        return try x.channelAffine(scale: scale, shift: bias.sub(runningMean.mul(scale)))
    }
}

import LopperCore

/// What a data set does to each batch as it is drawn: a random crop of a zero-padded image
/// and a random horizontal flip (torchvision's `RandomCrop(size, padding)` and
/// `RandomHorizontalFlip()`, the CIFAR pipeline), then a per-channel normalisation, then a
/// function of the caller's (a Lua transform). Random draws come from the generator the
/// batch is drawn with, one per sample in batch order: `BatchIterator` seeds one a batch
/// from its own seed, which `lp.manual_seed` fixes.
public struct Augmentation {
    /// Pixels of padding on each side before a crop back to the original size; 0: no crop.
    public var padding = 0
    public var flip = false
    /// x = (x − mean[c]) / std[c] after the crop and flip; each one number or one a channel.
    public var mean: [Float]? = nil, std: [Float]? = nil
    public var transform: ((Tensor, Tensor) throws -> (Tensor, Tensor))? = nil

    public init() {}

    /// The standard CIFAR training pipeline: pad 4, crop 32, flip.
    public static var cifar: Augmentation {
        var a = Augmentation()
        a.padding = 4
        a.flip = true
        return a
    }

    /// Checks that the augmentation fits samples of `shape` ([C, H, W] for crops and flips).
    func check(_ shape: [Int]) throws {
        if padding != 0 || flip {
            guard shape.count == 3 else {
                throw TensorError("augment: crops and flips need image samples [C, H, W], got \(describeShape(shape))")
            }
        }
        guard padding >= 0, padding <= 1 << 12 else { throw TensorError("augment: padding must be 0 to 4096, got \(padding)") }
        if let mean, let std {
            let channels = shape.first ?? 1
            guard [mean.count, std.count].allSatisfy({ $0 == 1 || $0 == channels }), std.allSatisfy({ $0 > 0 }) else {
                throw TensorError("augment: expected mean and std each one number or one per channel (\(channels)), std positive; got \(mean.count) and \(std.count)")
            }
        } else if mean != nil || std != nil {
            throw TensorError("augment: give both mean and std")
        }
    }

    /// Applies the native steps in place to a batch x [B, C, H, W]; `fill[c]` is the value a
    /// padded pixel of channel c has (the normalised value of a black pixel).
    func apply(_ x: Tensor, fill: [Float], generator rng: RandomGenerator) throws {
        let shape = x.shape
        if padding > 0 || flip {
            let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
            var plane = [Float](repeating: 0, count: h * w)
            for s in 0..<b {
                let dy = padding > 0 ? rng.integer(below: 2 * padding + 1) - padding : 0
                let dx = padding > 0 ? rng.integer(below: 2 * padding + 1) - padding : 0
                let mirror = flip && rng.next() >> 63 == 1
                for ch in 0..<c {
                    let p = x.data + (s * c + ch) * h * w
                    let f = fill[fill.count == 1 ? 0 : ch]
                    plane.withUnsafeMutableBufferPointer { out in
                        for i in 0..<h {
                            let si = i + dy
                            for j in 0..<w {
                                let sj = (mirror ? w - 1 - j : j) + dx
                                out[i * w + j] = si >= 0 && si < h && sj >= 0 && sj < w ? p[si * w + sj] : f
                            }
                        }
                        p.update(from: out.baseAddress!, count: h * w)
                    }
                }
            }
        }
        if let mean, let std {
            let b = shape[0], c = shape.count > 1 ? shape[1] : 1
            let plane = x.count / max(1, b * c)
            for s in 0..<b {
                for ch in 0..<c {
                    let m = mean[mean.count == 1 ? 0 : ch], sd = std[std.count == 1 ? 0 : ch]
                    let p = x.data + (s * c + ch) * plane
                    for i in 0..<plane { p[i] = (p[i] - m) / sd }
                }
            }
        }
    }
}

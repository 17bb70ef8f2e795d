import LopperCore
import LopperNN

/// Physical removal (`lp.compact`): a masked network becomes a dense one with thinner
/// Linear, Conv2d and BatchNorm tensors that computes the same function. Between two
/// weighted layers of a chain, a channel goes when it is dead (its weights, bias and the
/// following batch norm's γ and β all zero, so it outputs exactly 0 through zero-keeping
/// activations and pools) or unread (the next layer's kernels for it are all zero); it is
/// cut from the producer's rows, the batch norm and the consumer's columns (a block of
/// H·W columns after a Flatten). Chains are Sequentials, nested or not; a container of
/// another kind (a residual block) is an error that names it.
public enum Compaction {
    /// Which rows (dimension 0) and columns (dimension 1) of a tensor are kept; nil: all.
    public struct Slice {
        public var rows: [Int]?, columns: [Int]?
    }

    public struct Result {
        public let net: Module
        /// Parameter and buffer name → what was kept of it.
        public let slices: [String: Slice]
        /// Per weighted layer: (name, output units before, after).
        public let layers: [(String, Int, Int)]
        /// What could not be compacted, and why.
        public let notes: [String]
    }

    /// The leaf modules of the chain in execution order, with their paths.
    static func chain(_ m: Module, _ path: String = "") throws -> [(String, Module)] {
        if m is Sequential {
            return try m.children.flatMap { name, child in try chain(child, path.isEmpty ? name : path + "." + name) }
        }
        guard m.children.isEmpty else {
            throw TensorError("compact: \(path.isEmpty ? "the network" : path) is a \(m.kind), whose channels Lopper cannot follow (only chains of Sequential layers are compacted; residual groups are not yet)")
        }
        return [(path, m)]
    }

    /// Whether a leaf keeps a zero channel zero and the channel layout as it is.
    static func keepsZeros(_ m: Module) -> Bool {
        if m is Pool2d || m is Dropout { return true }
        return m is Elementwise && ["ReLU", "Tanh", "Identity", "Flatten"].contains(m.kind) || m.kind.hasPrefix("LeakyReLU")
    }

    public static func compact(_ net: Module, inputShape: [Int]? = nil) throws -> Result {
        let leaves = try chain(net)
        guard let shape = inputShape ?? net.inputShape else {
            throw TensorError("compact: the network does not know its input shape; give input = {C, H, W}")
        }
        // The input shape of every leaf, from one forward pass of zeros.
        var seen: [ObjectIdentifier: [Int]] = [:]
        var removals: [() -> Void] = []
        for (_, m) in leaves {
            let hooks = m.hookSet()
            let id = hooks.onForward { m, x, _ in seen[ObjectIdentifier(m)] = x.shape; return nil }
            removals.append { hooks.remove(id) }
        }
        defer { for r in removals { r() } }
        _ = try net.evaluating { try Autograd.noGrad { try net(Tensor(shape: [1] + shape)) } }

        let weighted = leaves.indices.filter { leaves[$0].1 is Linear || leaves[$0].1 is Conv2d }
        var rows: [Int: [Int]] = [:], columns: [Int: [Int]] = [:]
        var notes: [String] = []
        for (a, b) in zip(weighted, weighted.dropFirst()) {
            let (pName, p) = leaves[a], (qName, q) = leaves[b]
            let between = leaves[(a + 1)..<b].map { $0.1 }
            let (pw, pb) = weightAndBias(p)
            let channels = pw.shape[0]
            if let odd = between.first(where: { !(keepsZeros($0) || $0 is BatchNorm) }) {
                notes.append("\(pName) → \(qName): left whole, \(odd.kind) between them may not keep a removed channel at zero")
                continue
            }
            // Dead: the producer's row and bias are zero, and every batch norm after it
            // has γ = β = 0 there.
            var dead = try (0..<channels).map { c in try isZero(pw, row: c) && (pb.map { $0.data[c] == 0 } ?? true) }
            var factor = 1, flattened = false
            for m in between {
                if let bn = m as? BatchNorm {
                    guard !flattened || factor == 1, bn.channels == channels else {
                        notes.append("\(pName) → \(qName): left whole, a batch norm over other units sits between them")
                        dead = []; break
                    }
                    let g = try bn.weight.contiguous(), s = try bn.bias.contiguous()
                    for c in 0..<channels where g.data[c] != 0 || s.data[c] != 0 { dead[c] = false }
                }
                if m.kind == "Flatten", let x = seen[ObjectIdentifier(m)], x.count >= 2 {
                    factor = x.dropFirst(2).reduce(1, *)
                    flattened = true
                }
            }
            guard dead.count == channels else { continue }
            let (qw, _) = weightAndBias(q)
            guard qw.shape[1] == channels * factor else {
                notes.append("\(pName) → \(qName): left whole, \(qName) reads \(qw.shape[1]) inputs, not \(channels) channels × \(factor)")
                continue
            }
            let read = try (0..<channels).map { c in try !isZero(qw, columns: (c * factor)..<((c + 1) * factor)) }
            var keep = (0..<channels).filter { !dead[$0] && read[$0] }
            if keep.isEmpty {
                keep = [0]
                notes.append("\(pName): every channel was removed; one is kept so that the network still has a path")
            }
            guard keep.count < channels else { continue }
            rows[a] = keep
            columns[b] = keep.flatMap { c in (c * factor)..<((c + 1) * factor) }
        }

        // The new network: a clone with the thinned leaves put in their places.
        let random = RandomGenerator.shared.snapshot
        defer { try? RandomGenerator.shared.restore(random) }
        let out = try net.clone()
        var slices: [String: Slice] = [:]
        var layers: [(String, Int, Int)] = []
        for (k, (path, m)) in leaves.enumerated() {
            if weighted.contains(k) {
                let r = rows[k], c = columns[k]
                layers.append((path.isEmpty ? "net" : path, weightAndBias(m).0.shape[0], r?.count ?? weightAndBias(m).0.shape[0]))
                guard r != nil || c != nil else { continue }
                let thin = try thinned(m, rows: r, columns: c)
                for local in ["weight", "bias"] { slices[join(path, local)] = local == "weight" ? Slice(rows: r, columns: c) : Slice(rows: r, columns: nil) }
                try put(thin, at: path, in: out)
            } else if let bn = m as? BatchNorm, let producer = weighted.last(where: { $0 < k }), let r = rows[producer],
                      !leaves[(producer + 1)..<k].contains(where: { $0.1.kind == "Flatten" }) || r.count == bn.channels {
                let thin = try BatchNorm(r.count, eps: bn.eps, momentum: bn.momentum, spatial: bn.kind == "BatchNorm2d")
                for ((_, from), (_, to)) in zip(bn.localParameters + bn.localBuffers, thin.localParameters + thin.localBuffers) {
                    try Autograd.noGrad { try to.copy_(from.rank == 0 ? from : try slice(from, rows: r, columns: nil)) }
                    to.mask = try from.mask.flatMap { from.rank == 0 ? nil : try slice($0, rows: r, columns: nil) }
                }
                thin.training = bn.training
                for (local, _) in bn.localParameters + bn.localBuffers where local != "num_batches_tracked" {
                    slices[join(path, local)] = Slice(rows: r, columns: nil)
                }
                try put(thin, at: path, in: out)
            }
        }
        return Result(net: out, slices: slices, layers: layers, notes: notes)
    }

    static func join(_ path: String, _ local: String) -> String { path.isEmpty ? local : path + "." + local }

    static func weightAndBias(_ m: Module) -> (Tensor, Tensor?) {
        if let l = m as? Linear { return (l.weight, l.bias) }
        let c = m as! Conv2d
        return (c.weight, c.bias)
    }

    static func isZero(_ w: Tensor, row: Int) throws -> Bool {
        let x = try w.contiguous(), per = w.count / w.shape[0]
        return (0..<per).allSatisfy { x.data[row * per + $0] == 0 }
    }

    static func isZero(_ w: Tensor, columns: Range<Int>) throws -> Bool {
        let x = try w.contiguous(), o = w.shape[0], i = w.shape[1], inner = w.count / (o * i)
        for r in 0..<o { for c in columns { for k in 0..<inner where x.data[(r * i + c) * inner + k] != 0 { return false } } }
        return true
    }

    /// The rows and columns of `t` kept (dimensions 0 and 1), as a new tensor.
    public static func slice(_ t: Tensor, rows: [Int]?, columns: [Int]?) throws -> Tensor {
        let x = try t.contiguous()
        let o = t.shape[0], i = t.rank > 1 ? t.shape[1] : 1, inner = t.count / max(o * i, 1)
        let r = rows ?? Array(0..<o), c = t.rank > 1 ? (columns ?? Array(0..<i)) : [0]
        var shape = t.shape
        shape[0] = r.count
        if t.rank > 1 { shape[1] = c.count }
        let out = try Tensor(shape: shape)
        var at = 0
        for a in r { for b in c {
            (out.data + at).update(from: x.data + (a * i + b) * inner, count: inner)
            at += inner
        } }
        return out
    }

    /// A Linear or Conv2d with only the kept rows and columns.
    static func thinned(_ m: Module, rows: [Int]?, columns: [Int]?) throws -> Module {
        let (w, b) = weightAndBias(m)
        let o = rows?.count ?? w.shape[0], i = columns?.count ?? w.shape[1]
        let thin: Module
        if let conv = m as? Conv2d {
            thin = try Conv2d(i, o, kernel: (w.shape[2], w.shape[3]), stride: conv.stride, padding: conv.padding, bias: b != nil)
        } else {
            thin = try Linear(i, o, bias: b != nil)
        }
        let (tw, tb) = weightAndBias(thin)
        try Autograd.noGrad {
            try tw.copy_(try slice(w, rows: rows, columns: columns))
            if let b, let tb { try tb.copy_(try slice(b, rows: rows, columns: nil)) }
        }
        tw.mask = try w.mask.map { try slice($0, rows: rows, columns: columns) }
        if let b, let tb { tb.mask = try b.mask.map { try slice($0, rows: rows, columns: nil) } }
        tw.requiresGrad = w.requiresGrad
        tb?.requiresGrad = b?.requiresGrad ?? false
        thin.training = m.training
        return thin
    }

    /// Puts `m` at `path` in `net` (the clone), in place of what is there.
    static func put(_ m: Module, at path: String, in net: Module) throws {
        let parts = path.split(separator: ".").map(String.init)
        guard let name = parts.last else { throw TensorError("compact: the network itself is a single layer; nothing to compact") }
        try net.module(at: parts.dropLast().joined(separator: ".")).replaceChild(name, with: m)
    }
}

import LopperCore
import LopperNN

/// Physical removal (`lp.compact`): a masked network becomes a dense one with thinner
/// Linear, Conv2d and BatchNorm tensors that computes the same function. Between two
/// weighted layers of a chain, a channel goes when it is dead (its weights, bias and the
/// following batch norm's γ and β all zero, so it outputs exactly 0 through zero-keeping
/// activations and pools) or unread (the next layer's kernels for it are all zero); it is
/// cut from the producer's rows, the batch norm and the consumer's columns (a block of
/// H·W columns after a Flatten). Chains are Sequentials, nested or not, and the insides of
/// residual blocks (whose outputs, tied by the addition, stay whole).
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

    /// The chains of `m`: lists of leaves run one after another, whose inner channels may
    /// go while their first input and last output stay. Nested Sequentials are one chain; a
    /// residual block is a leaf of its chain (its outputs are tied by the addition) with
    /// chains of its own inside: a Residual's body and shortcut, a BasicBlock's conv1 → bn1
    /// → conv2. Other containers are leaves whose inside is left as it is, with a note.
    static func chains(_ m: Module, _ path: String, _ notes: inout [String]) -> [[(String, Module)]] {
        var outer: [(String, Module)] = [], inner: [[(String, Module)]] = []
        func walk(_ m: Module, _ path: String) {
            let at = { (name: String) in path.isEmpty ? name : path + "." + name }
            if m is Sequential {
                for (name, child) in m.children { walk(child, at(name)) }
                return
            }
            outer.append((path, m))
            if m is BasicBlock {
                let k = m.children
                inner.append([(at(k[0].0), k[0].1), (at(k[1].0), k[1].1), (at(k[2].0), k[2].1)])
                if k.count > 4 { inner += chains(k[4].1, at(k[4].0), &notes) }
            } else if m is Residual {
                for (name, child) in m.children { inner += chains(child, at(name), &notes) }
            } else if !m.children.isEmpty {
                notes.append("\(path.isEmpty ? "the network" : path): a \(m.kind) is left whole inside (Lopper cannot follow its channels)")
            }
        }
        walk(m, path)
        return [outer] + inner
    }

    /// Whether a leaf keeps a zero channel zero and the channel layout as it is.
    static func keepsZeros(_ m: Module) -> Bool {
        if m is Pool2d || m is Dropout { return true }
        return m is Elementwise && ["ReLU", "Tanh", "Identity", "Flatten"].contains(m.kind) || m.kind.hasPrefix("LeakyReLU")
    }

    public static func compact(_ net: Module, inputShape: [Int]? = nil) throws -> Result {
        var notes: [String] = []
        let all = chains(net, "", &notes)
        let leaves = all.flatMap { $0 }
        guard let shape = inputShape ?? net.inputShape else {
            throw TensorError("compact: the network does not know its input shape; give input = {C, H, W}")
        }
        // The input shape of every leaf, from one forward pass of zeros.
        var seen: [ObjectIdentifier: [Int]] = [:]
        var removals: [() -> Void] = []
        for (_, m) in leaves where m.children.isEmpty {
            let hooks = m.hookSet()
            let id = hooks.onForward { m, x, _ in seen[ObjectIdentifier(m)] = x.shape; return nil }
            removals.append { hooks.remove(id) }
        }
        defer { for r in removals { r() } }
        _ = try net.evaluating { try Autograd.noGrad { try net(Tensor(shape: [1] + shape)) } }

        // Kept rows and columns of weighted leaves, and kept entries of batch norms, by path.
        var rows: [String: [Int]] = [:], columns: [String: [Int]] = [:], norms: [String: [Int]] = [:]
        for chain in all {
            let weighted = chain.indices.filter { chain[$0].1 is Linear || chain[$0].1 is Conv2d }
            for (a, b) in zip(weighted, weighted.dropFirst()) {
                let (pName, p) = chain[a], (qName, q) = chain[b]
                let between = chain[(a + 1)..<b]
                let (pw, pb) = weightAndBias(p)
                let channels = pw.shape[0]
                if let odd = between.first(where: { !(keepsZeros($0.1) || $0.1 is BatchNorm) }) {
                    notes.append("\(pName) → \(qName): left whole, \(odd.0) (\(odd.1.kind)) between them may not keep a removed channel at zero")
                    continue
                }
                // Dead: the producer's row and bias are zero, and every batch norm after it
                // has γ = β = 0 there.
                var dead = try (0..<channels).map { c in try isZero(pw, row: c) && (pb.map { $0.data[c] == 0 } ?? true) }
                var factor = 1, flattened = false, usable = true
                for (_, m) in between {
                    if let bn = m as? BatchNorm {
                        guard !flattened || factor == 1, bn.channels == channels else {
                            notes.append("\(pName) → \(qName): left whole, a batch norm over other units sits between them")
                            usable = false; break
                        }
                        let g = try bn.weight.contiguous(), s = try bn.bias.contiguous()
                        for c in 0..<channels where g.data[c] != 0 || s.data[c] != 0 { dead[c] = false }
                    }
                    if m.kind == "Flatten", let x = seen[ObjectIdentifier(m)], x.count >= 2 {
                        factor = x.dropFirst(2).reduce(1, *)
                        flattened = true
                    }
                }
                guard usable else { continue }
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
                rows[pName] = keep
                columns[qName] = keep.flatMap { c in (c * factor)..<((c + 1) * factor) }
                for (path, m) in between where m is BatchNorm { norms[path] = keep }
            }
        }

        // The new network: a clone with the thinned leaves put in their places.
        let random = RandomGenerator.shared.snapshot
        defer { try? RandomGenerator.shared.restore(random) }
        let out = try net.clone()
        var slices: [String: Slice] = [:]
        var layers: [(String, Int, Int)] = []
        for (path, m) in leaves where m.children.isEmpty {
            if m is Linear || m is Conv2d {
                let r = rows[path], c = columns[path], before = weightAndBias(m).0.shape[0]
                layers.append((path.isEmpty ? "net" : path, before, r?.count ?? before))
                guard r != nil || c != nil else { continue }
                try put(try thinned(m, rows: r, columns: c), at: path, in: out)
                slices[join(path, "weight")] = Slice(rows: r, columns: c)
                slices[join(path, "bias")] = Slice(rows: r, columns: nil)
            } else if let bn = m as? BatchNorm, let r = norms[path] {
                let thin = try BatchNorm(r.count, eps: bn.eps, momentum: bn.momentum, spatial: bn.kind == "BatchNorm2d")
                for ((local, from), (_, to)) in zip(bn.localParameters + bn.localBuffers, thin.localParameters + thin.localBuffers) {
                    try Autograd.noGrad { try to.copy_(from.rank == 0 ? from : try slice(from, rows: r, columns: nil)) }
                    to.mask = try from.mask.flatMap { from.rank == 0 ? nil : try slice($0, rows: r, columns: nil) }
                    if from.rank > 0 { slices[join(path, local)] = Slice(rows: r, columns: nil) }
                }
                thin.training = bn.training
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

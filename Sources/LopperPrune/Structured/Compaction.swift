import LopperCore
import LopperNN

/// Physical removal (`lp.compact`): a masked network becomes a dense one with thinner
/// Linear, Conv2d and BatchNorm tensors that computes the same function. A channel of a
/// dependency group goes when it is dead (every producer's row and bias and every batch
/// norm's γ and β are zero there, and the group's ops keep zeros at zero, so it is exactly
/// 0 everywhere) or unread (every consumer's columns for it are zero); it is cut from the
/// producers' rows, the batch norms and the consumers' columns at once, so the channels a
/// residual addition ties go together.
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

    /// The channels of `g` that can go: dead or unread.
    static func removable(_ g: ChannelGroup) throws -> [Bool] {
        var out = [Bool](repeating: false, count: g.channels)
        for c in 0..<g.channels {
            let unread = try !g.consumers.isEmpty && g.consumers.allSatisfy { q in
                try isZero(q.weight, columns: (c * q.factor)..<((c + 1) * q.factor))
            }
            let dead = try g.keepsZeros && !g.producers.isEmpty
                && g.producers.allSatisfy { p in try isZero(p.weight, row: c) && (try p.bias?.contiguous().data[c] ?? 0) == 0 }
                && g.norms.allSatisfy { n in try n.weight.contiguous().data[c] == 0 && (try n.bias?.contiguous().data[c] ?? 0) == 0 }
            out[c] = unread || dead
        }
        return out
    }

    public static func compact(_ net: Module, inputShape: [Int]? = nil) throws -> Result {
        guard net.inputShape != nil || inputShape != nil else {
            throw TensorError("compact: the network does not know its input shape; give input = {C, H, W}")
        }
        var notes: [String] = []
        // Kept rows and columns of weighted layers, and kept entries of batch norms, by path.
        var rows: [String: [Int]] = [:], columns: [String: [Int]] = [:], norms: [String: [Int]] = [:]
        for g in try DependencyGroups.find(net, inputShape: inputShape) {
            let gone = try removable(g)
            guard gone.contains(true) else { continue }
            if let why = g.fixed {
                if !g.producers.isEmpty { notes.append("\(g.name): \(gone.filter { $0 }.count) removable channels left whole: \(why)") }
                continue
            }
            let members = g.producers + g.consumers + g.norms
            if let loose = members.first(where: { $0.layerPath == nil }) {
                notes.append("\(g.name): left whole: \(loose.name) is used by a Lua function, not by a layer Lopper can thin")
                continue
            }
            var keep = (0..<g.channels).filter { !gone[$0] }
            if keep.isEmpty {
                keep = [0]
                notes.append("\(g.name): every channel was removed; one is kept so that the network still has a path")
            }
            guard keep.count < g.channels else { continue }
            for p in g.producers { rows[p.layerPath!] = keep }
            for q in g.consumers { columns[q.layerPath!] = keep.flatMap { c in (c * q.factor)..<((c + 1) * q.factor) } }
            for n in g.norms { norms[n.layerPath!] = keep }
        }

        // The new network: a clone with the thinned leaves put in their places.
        let random = RandomGenerator.shared.snapshot
        defer { try? RandomGenerator.shared.restore(random) }
        let out = try net.clone()
        var slices: [String: Slice] = [:]
        var layers: [(String, Int, Int)] = []
        for (path, m) in net.namedModules() where m.children.isEmpty {
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

import LopperCore
import LopperNN

/// Editing masks in place of whole pruning rounds: drop the lowest-scored active weights,
/// grow the highest-scored inactive ones (SET, RigL, soft filter pruning). Counts are
/// exact, ties go to the earlier position, and an optimizer given has its state zeroed
/// wherever a weight is dropped or regrown, so old momentum moves nothing.
public enum MaskEdit {
    /// How many to drop or grow.
    public enum Amount {
        /// k in all, chosen across the layers.
        case count(Int)
        /// A fraction of each layer's eligible weights (its active ones, for drop).
        case fraction(Double)
        /// Exactly this many in each named layer (missing names: none).
        case perLayer([String: Int])
    }

    /// Positions (row-major) of the k lowest `scores` (highest with `largest`) among
    /// `eligible`, for several lists at once: the k are chosen across all of them.
    public static func pick(_ lists: [(scores: Tensor, eligible: [Int])], k: Int, largest: Bool, op: String) throws -> [[Int]] {
        let total = lists.reduce(0) { $0 + $1.eligible.count }
        guard k >= 0, k <= total else { throw TensorError("\(op): cannot choose \(k) of \(total) eligible weights") }
        if k == 0 { return lists.map { _ in [] } }
        let sign: Float = largest ? -1 : 1
        let contiguous = try lists.map { try $0.scores.contiguous() }
        var values: [Float] = []
        values.reserveCapacity(total)
        for (s, l) in zip(contiguous, lists) { for p in l.eligible { values.append(sign * s.data[p]) } }
        let threshold = values.withUnsafeMutableBufferPointer { buf -> Float in
            Tensor.select(buf.baseAddress!, count: buf.count, k: k - 1, by: Tensor.less)
            return buf[k - 1]
        }
        // Everything below the threshold, then ties in order until k.
        var below = 0
        for (s, l) in zip(contiguous, lists) { for p in l.eligible where sign * s.data[p] < threshold { below += 1 } }
        var ties = k - below
        return zip(contiguous, lists).map { s, l in
            l.eligible.filter { p in
                let v = sign * s.data[p]
                if v < threshold { return true }
                if v == threshold && ties > 0 { ties -= 1; return true }
                return false
            }
        }
    }

    /// Positions whose mask is `active` (1) or not (0); every position is active without a mask.
    static func positions(_ t: Tensor, active: Bool) throws -> [Int] {
        guard let mask = t.mask else { return active ? Array(0..<t.count) : [] }
        let m = try mask.contiguous()
        return (0..<m.count).filter { (m.data[$0] != 0) == active }
    }

    /// How many of `eligible` each layer gives up.
    static func counts(_ amount: Amount, _ targets: [PrunableTensor], _ eligible: [[Int]], op: String) throws -> [Int]? {
        switch amount {
        case .count: return nil
        case .fraction(let f):
            guard f >= 0, f <= 1 else { throw TensorError("\(op): fraction must be in [0, 1], got \(f)") }
            return eligible.map { Int((f * Double($0.count)).rounded()) }
        case .perLayer(let table):
            let names = Set(targets.map { $0.name })
            if let unknown = table.keys.sorted().first(where: { !names.contains($0) }) {
                throw TensorError("\(op): count names \(unknown), which is not among the tensors edited (\(targets.map { $0.name }.joined(separator: ", ")))")
            }
            return try targets.map { t in
                let n = table[t.name] ?? 0
                guard n >= 0 else { throw TensorError("\(op): count for \(t.name) is negative (\(n))") }
                return n
            }
        }
    }

    /// Removes the lowest-scored active weights: their mask goes to 0, their value and
    /// optimizer state to 0. Returns the positions dropped per target.
    public static func drop(_ targets: [PrunableTensor], scores: [Tensor], amount: Amount, optimizer: Optimizer?) throws -> [[Int]] {
        try edit(targets, scores: scores, amount: amount, optimizer: optimizer, grow: false)
    }

    /// Makes the highest-scored inactive weights active again, with value 0 and zeroed
    /// optimizer state. Returns the positions grown per target.
    public static func grow(_ targets: [PrunableTensor], scores: [Tensor], amount: Amount, optimizer: Optimizer?) throws -> [[Int]] {
        try edit(targets, scores: scores, amount: amount, optimizer: optimizer, grow: true)
    }

    static func edit(_ targets: [PrunableTensor], scores: [Tensor], amount: Amount, optimizer: Optimizer?, grow: Bool) throws -> [[Int]] {
        let op = grow ? "grow" : "drop"
        try Scores.validate(scores, targets, source: op)
        let eligible = try targets.map { try positions($0.tensor, active: !grow) }
        let chosen: [[Int]]
        if case .count(let k) = amount {
            chosen = try pick(Array(zip(scores, eligible)).map { ($0.0, $0.1) }, k: k, largest: grow, op: op)
        } else {
            let per = try counts(amount, targets, eligible, op: op)!
            chosen = try zip(targets, zip(scores, zip(eligible, per))).map { t, rest in
                let (s, (e, n)) = rest
                guard n <= e.count else {
                    throw TensorError("\(op): \(t.name) has \(e.count) \(grow ? "inactive" : "active") weights, fewer than the \(n) asked")
                }
                return try pick([(s, e)], k: n, largest: grow, op: op)[0]
            }
        }
        try Autograd.noGrad {
            for (t, picked) in zip(targets, chosen) where !picked.isEmpty {
                let w = t.tensor
                // A new mask object: optimizers notice the change and re-mask their state.
                let mask = try w.mask?.clone() ?? Tensor(filled: 1, shape: w.shape)
                try mask.put_(picked, values: Tensor(scalar: grow ? 1 : 0))
                try w.put_(picked, values: Tensor(scalar: 0))
                w.mask = mask
                if let optimizer, let i = optimizer.index(of: w) {
                    let kept = try Tensor(filled: 1, shape: w.shape)
                    try kept.put_(picked, values: Tensor(scalar: 0))
                    try optimizer.resetState(i, keep: kept)
                }
            }
        }
        return chosen
    }
}

import LopperCore
import LopperNN

/// Channels that are pruned together: removing channel c of a group removes row c of every
/// producer (a Linear or Conv2d making the channels), entry c of every batch norm over them,
/// and the input columns of channel c in every consumer (a block of H·W columns after a
/// Flatten). A residual addition ties its inputs into one group; anything else that reads
/// several channels at once (a reshape that mixes them, a cat, a Lua function on raw
/// indices) fixes the group, with the reason.
public struct ChannelGroup {
    /// A tensor of the group, and the native layer that owns it (nil: a Lua function uses
    /// it directly, so masks work but compaction cannot thin it).
    public struct Member {
        public let name: String
        public let weight: Tensor
        public let bias: Tensor?
        /// Consumers: how many input columns each channel is (H·W after a Flatten, else 1).
        public let factor: Int
        public let layer: Module?
        public let layerPath: String?
    }

    public let name: String
    public let channels: Int
    public var producers: [Member] = [], consumers: [Member] = [], norms: [Member] = []
    /// Why the group cannot be pruned; nil when it can.
    public var fixed: String?
    /// Whether every op on the channels keeps a zero channel at zero, so a channel whose
    /// producers and norms are zero is zero everywhere.
    public var keepsZeros = true

    public var prunable: Bool { fixed == nil && !producers.isEmpty }
}

/// Finds the groups of a network by tracing one forward pass and following channels
/// through its graph: native layers by their hooks, everything else (Lua-written modules
/// included) by the ops they ran.
public enum DependencyGroups {
    /// Ops that keep each channel where it is and a zero at zero; then those that keep the
    /// channel but may turn a zero into something else.
    static let zeroKeeping: Set<String> = ["relu", "tanh", "abs", "neg", "sqrt", "clone", "max_pool2d", "avg_pool2d"]
    static let channelwise: Set<String> = ["sigmoid", "exp", "log", "pow", "rpow", "rsub", "rdiv", "clamp"]
    static let elementwise: Set<String> = ["add", "sub", "mul", "div", "maximum", "minimum", "where"]
    static let reshapes: Set<String> = ["view", "reshape", "squeeze", "unsqueeze"]
    static let reductions: Set<String> = ["sum", "mean", "norm"]

    public static func find(_ net: Module, inputShape: [Int]? = nil) throws -> [ChannelGroup] {
        guard let shape = inputShape ?? net.inputShape else {
            throw TensorError("groups: the network does not know its input shape; give input = {C, H, W}")
        }
        let order = Dictionary(net.namedParameters().enumerated().map { ($0.element.0, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let groups = try Trace(net, shape).groups(order: order)
        return groups.sorted { (order[$0.producers.first?.name ?? ""] ?? -1) < (order[$1.producers.first?.name ?? ""] ?? -1) }
    }
}

/// One traced forward pass and the channel spaces of its tensors (a union-find over
/// spaces: tied spaces are one group).
final class Trace {
    struct Place { var space: Int; var factor: Int }
    enum Role { case producer, consumer, norm }

    var parent: [Int] = [], channels: [Int] = [], fixed: [String?] = [], zeros: [Bool] = []
    var members: [[(Role, ChannelGroup.Member)]] = []
    var place: [ObjectIdentifier: Place] = [:]
    var producerSpace: [ObjectIdentifier: Int] = [:], consumerSpace: [ObjectIdentifier: Int] = [:]
    let names: [ObjectIdentifier: String]
    let owners: [ObjectIdentifier: (String, Module)]

    init(_ net: Module, _ shape: [Int]) throws {
        names = Dictionary(net.namedParameters().map { (ObjectIdentifier($0.1), $0.0) }, uniquingKeysWith: { a, _ in a })
        var owners: [ObjectIdentifier: (String, Module)] = [:]
        for (path, m) in net.namedModules() {
            if let l = m as? Linear { owners[ObjectIdentifier(l.weight)] = (path, m) }
            if let c = m as? Conv2d { owners[ObjectIdentifier(c.weight)] = (path, m) }
            if let b = m as? BatchNorm { owners[ObjectIdentifier(b.weight)] = (path, m) }
        }
        self.owners = owners

        // Native leaves are read from their hooks (an evaluating batch norm computes its
        // affine map from the weight, which the graph would show only indirectly); a leaf
        // that computes outside the graph is opaque.
        var leaves: [ObjectIdentifier: (Module, Tensor)] = [:], kept: [Tensor] = []
        var removals: [() -> Void] = []
        for (_, m) in net.namedModules() where m.children.isEmpty {
            let hooks = m.hookSet()
            let id = hooks.onForward { m, x, y in
                if m is Linear || m is Conv2d || m is BatchNorm || y.gradFn == nil && y !== x {
                    leaves[ObjectIdentifier(y)] = (m, x); kept += [x, y]
                }
                return nil
            }
            removals.append { hooks.remove(id) }
        }
        defer { for r in removals { r() } }
        let random = RandomGenerator.shared.snapshot
        defer { try? RandomGenerator.shared.restore(random) }
        let x = try Tensor.randn([1] + shape, generator: RandomGenerator(seed: 5))
        x.requiresGrad = true
        let recording = Autograd.isEnabled
        Autograd.isEnabled = true
        defer { Autograd.isEnabled = recording }
        let y = try net.evaluating { try net(x) }

        // Inputs before outputs, then channels followed forward.
        var order: [Tensor] = [], seen = Set<ObjectIdentifier>(), stack: [(Tensor, Bool)] = [(y, false)]
        func inputs(_ t: Tensor) -> [Tensor] { leaves[ObjectIdentifier(t)].map { [$0.1] } ?? t.gradFn?.inputs ?? [] }
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            guard seen.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for i in inputs(t).reversed() where !seen.contains(ObjectIdentifier(i)) { stack.append((i, false)) }
        }
        for t in order {
            if t === x {
                place[ObjectIdentifier(t)] = Place(space: space(t.shape[1], fixed: "the network's input"), factor: 1)
            } else if let (m, input) = leaves[ObjectIdentifier(t)] {
                if let l = m as? Linear { layer(t, input, l.weight, l.bias) }
                else if let c = m as? Conv2d { layer(t, input, c.weight, c.bias) }
                else if let b = m as? BatchNorm { norm(t, input, b.weight, b.bias) }
                else { opaque(t, [input], "\(m.kind) computes outside the graph") }
            } else if let node = t.gradFn {
                op(node.name, node.inputs, t)
            }
        }
        if let p = place[ObjectIdentifier(y)] { fix(p.space, "the network's output") }
    }

    func space(_ c: Int, fixed reason: String? = nil) -> Int {
        parent.append(parent.count); channels.append(c); fixed.append(reason); zeros.append(true); members.append([])
        return parent.count - 1
    }

    func root(_ s: Int) -> Int {
        var s = s
        while parent[s] != s { parent[s] = parent[parent[s]]; s = parent[s] }
        return s
    }

    func fix(_ s: Int, _ reason: String) {
        let r = root(s)
        if fixed[r] == nil { fixed[r] = reason }
    }

    func union(_ a: Int, _ b: Int) {
        let (ra, rb) = (root(a), root(b))
        guard ra != rb else { return }
        parent[rb] = ra
        members[ra] += members[rb]; members[rb] = []
        zeros[ra] = zeros[ra] && zeros[rb]
        if fixed[ra] == nil { fixed[ra] = fixed[rb] }
        if channels[ra] != channels[rb] { fix(ra, "it ties \(channels[ra]) channels to \(channels[rb])") }
    }

    func member(_ role: Role, _ s: Int, _ w: Tensor, _ b: Tensor?, factor: Int = 1) {
        let owner = owners[ObjectIdentifier(w)]
        let name = names[ObjectIdentifier(w)] ?? "a tensor"
        members[root(s)].append((role, ChannelGroup.Member(name: name, weight: w, bias: b, factor: factor,
                                                           layer: owner?.1, layerPath: owner?.0)))
    }

    /// A Linear or Conv2d: it reads the input's channels and makes a space of its own
    /// (shared with every other use of the same weight).
    func layer(_ out: Tensor, _ x: Tensor, _ w: Tensor, _ b: Tensor?) {
        let id = ObjectIdentifier(w)
        let conv = w.rank == 4
        if let p = place[ObjectIdentifier(x)] {
            if (conv ? x.rank == 4 && p.factor == 1 : x.rank == 2) && w.rank >= 2 && w.shape[1] == channels[root(p.space)] * p.factor {
                if let s = consumerSpace[id] { union(s, p.space) } else { consumerSpace[id] = p.space; member(.consumer, p.space, w, nil, factor: p.factor) }
            } else {
                fix(p.space, "\(names[id] ?? "a weight") reads its \(describeShape(x.shape)) input in a way Lopper cannot follow")
            }
        }
        guard out.rank >= 2 else { return }
        if let s = producerSpace[id] { place[ObjectIdentifier(out)] = Place(space: s, factor: 1); return }
        let s = space(w.shape[0])
        producerSpace[id] = s
        member(.producer, s, w, b)
        if out.rank != (conv ? 4 : 2) || out.shape[1] != w.shape[0] {
            fix(s, "\(names[id] ?? "a weight") gives \(describeShape(out.shape))")
        }
        place[ObjectIdentifier(out)] = Place(space: s, factor: 1)
    }

    /// A batch norm (or a Lua-written one): the same channels, with entries of its own.
    func norm(_ out: Tensor, _ x: Tensor, _ w: Tensor, _ b: Tensor?) {
        guard let p = place[ObjectIdentifier(x)] else { return }
        place[ObjectIdentifier(out)] = p
        if p.factor == 1 && w.shape == [channels[root(p.space)]] && b.map({ $0.shape == w.shape }) ?? true {
            member(.norm, p.space, w, b)
        } else {
            fix(p.space, "\(names[ObjectIdentifier(w)] ?? "a per-channel tensor") does not match its channels")
        }
    }

    /// Whatever Lopper cannot follow: the channels it reads are fixed, and so are those it makes.
    func opaque(_ out: Tensor, _ inputs: [Tensor], _ reason: String) {
        for i in inputs { if let p = place[ObjectIdentifier(i)] { fix(p.space, reason) } }
        if out.rank >= 2 { place[ObjectIdentifier(out)] = Place(space: space(out.shape[1], fixed: reason), factor: 1) }
    }

    func op(_ name: String, _ inputs: [Tensor], _ out: Tensor) {
        let placed = inputs.compactMap { place[ObjectIdentifier($0)] }
        let params = inputs.dropFirst().map { names[ObjectIdentifier($0)] != nil }
        switch name {
        case _ where (name == "linear" || name == "conv2d") && inputs.count >= 2:
            guard params[0] else { return opaque(out, inputs, "`\(name)` with a computed weight (not a parameter)") }
            layer(out, inputs[0], inputs[1], inputs.count > 2 ? inputs[2] : nil)
        case _ where (name == "batch_norm" || name == "channel_affine") && inputs.count >= 2 && params.allSatisfy({ $0 }):
            norm(out, inputs[0], inputs[1], inputs.count > 2 ? inputs[2] : nil)
        case _ where inputs.count == 1 && (Trace.zeroKeeping(name) || DependencyGroups.channelwise.contains(name)):
            guard let p = placed.first else { return }
            if !Trace.zeroKeeping(name) { zeros[root(p.space)] = false }
            if out.shape == inputs[0].shape || ["max_pool2d", "avg_pool2d"].contains(name) && out.rank == 4 && out.shape[1] == inputs[0].shape[1] {
                place[ObjectIdentifier(out)] = p
            } else {
                opaque(out, inputs, "`\(name)` changes the shape \(describeShape(inputs[0].shape)) to \(describeShape(out.shape))")
            }
        case _ where DependencyGroups.elementwise.contains(name):
            elementwise(name, inputs, out)
        case _ where DependencyGroups.reshapes.contains(name) || DependencyGroups.reductions.contains(name):
            guard let p = placed.first, let x = inputs.first else { return }
            let n = x.shape.first ?? 0
            if out.rank >= 2 && x.rank >= 2 && out.shape[0] == n && out.shape[1] == x.shape[1] && (name != "view" && name != "reshape" || out.count == x.count) {
                place[ObjectIdentifier(out)] = p
            } else if DependencyGroups.reshapes.contains(name) && out.rank == 2 && x.rank > 2 && out.shape[0] == n && out.count == x.count && p.factor == 1 {
                place[ObjectIdentifier(out)] = Place(space: p.space, factor: out.shape[1] / x.shape[1])
            } else {
                opaque(out, inputs, "`\(name)` turns \(describeShape(x.shape)) into \(describeShape(out.shape))")
            }
        default:
            guard !placed.isEmpty || out.rank >= 2 && inputs.contains(where: { names[ObjectIdentifier($0)] != nil }) else { return }
            opaque(out, inputs, "`\(name)` mixes channels in a way Lopper cannot follow")
        }
    }

    static func zeroKeeping(_ name: String) -> Bool {
        DependencyGroups.zeroKeeping.contains(name) || name == "mul" || name == "div"
    }

    /// An elementwise op: inputs of the output's shape are the same channels (a residual
    /// addition ties them); a broadcast constant is harmless unless it differs per channel.
    func elementwise(_ name: String, _ inputs: [Tensor], _ out: Tensor) {
        var result: Place?
        for i in inputs {
            if let p = place[ObjectIdentifier(i)] {
                if i.shape == out.shape, result == nil || result!.factor == p.factor {
                    if let r = result { union(r.space, p.space) } else { result = p }
                } else {
                    opaque(out, inputs, "`\(name)` combines \(describeShape(i.shape)) with \(describeShape(out.shape))")
                    return
                }
            }
        }
        guard let r = result else { return }
        for i in inputs where place[ObjectIdentifier(i)] == nil {
            let aligned = i.rank - out.rank + 1
            if i.shape != out.shape && aligned >= 0 && aligned < i.rank && i.shape[aligned] > 1 {
                opaque(out, inputs, "`\(name)` with a per-channel \(describeShape(i.shape)) tensor (\(names[ObjectIdentifier(i)] ?? "not a parameter")) that Lopper cannot slice")
                return
            }
            if name != "mul" && (name != "div" || i !== inputs.last) { zeros[root(r.space)] = false }
        }
        if inputs.count == 1 && name != "mul" && name != "div" { zeros[root(r.space)] = false }
        place[ObjectIdentifier(out)] = r
    }

    /// The groups in network order, each named after its first producer.
    func groups(order: [String: Int]) -> [ChannelGroup] {
        var out: [ChannelGroup] = []
        for s in parent.indices where root(s) == s {
            let ms = members[s].sorted { (order[$0.1.name] ?? Int.max) < (order[$1.1.name] ?? Int.max) }
            let producers = ms.filter { $0.0 == .producer }.map { $0.1 }
            let label = producers.first.map { $0.layerPath ?? $0.name } ?? (fixed[s] == "the network's input" ? "input" : "channels")
            var g = ChannelGroup(name: label.isEmpty ? "net" : label, channels: channels[s])
            g.producers = producers
            g.consumers = ms.filter { $0.0 == .consumer }.map { $0.1 }
            g.norms = ms.filter { $0.0 == .norm }.map { $0.1 }
            g.fixed = fixed[s]
            g.keepsZeros = zeros[s]
            if !g.producers.isEmpty || !g.consumers.isEmpty { out.append(g) }
        }
        return out
    }
}

import LopperCore
import LopperNN

/// One tensor that pruning may mask, with the layer that owns it.
public struct PrunableTensor {
    public let name: String
    public let tensor: Tensor
    public let layer: Module
    /// The module's path in the network ("" for the network itself).
    public let layerPath: String
}

/// Which tensors are prunable. By default the weights of Linear and Conv2d layers:
/// biases and BatchNorm stay dense, as in Frankle & Carbin, SNIP, GraSP and SynFlow.
public struct PrunableSelection {
    public var includeBias = false
    public var includeNorm = false
    public var excludeFirst = false
    public var excludeLast = false
    /// Names left dense.
    public var exclude: Set<String> = []
    /// When set, exactly these names (checked against the network).
    public var only: [String]?

    public init() {}

    /// The prunable tensors of `net`, in the network's order.
    public func select(_ net: Module, op: String = "prune") throws -> [PrunableTensor] {
        var weights: [PrunableTensor] = []
        var others: [PrunableTensor] = []
        for (path, m) in net.namedModules() {
            for (local, t) in m.localParameters {
                let name = path.isEmpty ? local : path + "." + local
                let entry = PrunableTensor(name: name, tensor: t, layer: m, layerPath: path)
                let weighted = m is Linear || m is Conv2d
                if weighted && local == "weight" { weights.append(entry) }
                else if weighted && local == "bias" && includeBias { others.append(entry) }
                else if m is BatchNorm && includeNorm { others.append(entry) }
            }
        }
        if let only {
            let all = Dictionary(net.namedModules().flatMap { path, m in
                m.localParameters.map { (path.isEmpty ? $0.0 : path + "." + $0.0, PrunableTensor(name: path.isEmpty ? $0.0 : path + "." + $0.0, tensor: $0.1, layer: m, layerPath: path)) }
            }, uniquingKeysWith: { a, _ in a })
            return try only.map { name in
                guard let e = all[name] else {
                    throw TensorError("\(op): the network has no parameter \(name) (parameters: \(net.namedParameters().map { $0.0 }.joined(separator: ", ")))")
                }
                return e
            }
        }
        for name in exclude where !net.namedParameters().contains(where: { $0.0 == name }) {
            throw TensorError("\(op): cannot exclude \(name): the network has no such parameter")
        }
        var chosen = weights
        if excludeFirst, !chosen.isEmpty { chosen.removeFirst() }
        if excludeLast, !chosen.isEmpty { chosen.removeLast() }
        let order = Dictionary(net.namedParameters().enumerated().map { ($0.element.0, $0.offset) }, uniquingKeysWith: { a, _ in a })
        chosen = (chosen + others).filter { !exclude.contains($0.name) }
        chosen.sort { order[$0.name]! < order[$1.name]! }
        guard !chosen.isEmpty else { throw TensorError("\(op): the network has no prunable tensors (Linear and Conv2d weights by default)") }
        return chosen
    }
}

import Foundation
import LopperCore

/// Checkpoints: one safetensors file holding a model's state_dict under PyTorch's names
/// (so `model.load_state_dict(safetensors.torch.load_file(p), strict=False)` reads it),
/// the optimizer state under "@optimizer/<param>/<key>", and, in the metadata, the
/// optimizer's kind, settings and iteration, the random generator's state and the
/// caller's own strings. Pruning masks are saved beside their parameters as
/// "<name>_mask", the buffer name `torch.nn.utils.prune` uses, and restored on load.
/// Written atomically.
public enum Checkpoint {
    public static let format = "lopper-checkpoint/1"
    static let optimizerPrefix = "@optimizer/"
    static let maskSuffix = "_mask"

    public static func save(_ path: String, net: Module?, optimizer: Optimizer? = nil, rng: RandomGenerator? = nil,
                            metadata user: [String: String] = [:]) throws {
        var entries: [Safetensors.Entry] = []
        for (name, t) in net?.stateDict() ?? [] {
            entries.append(.init(name, t, asInt64: name.hasSuffix("num_batches_tracked")))
        }
        for (name, t) in net?.namedParameters() ?? [] {
            if let mask = t.mask { entries.append(.init(name + maskSuffix, mask)) }
        }
        var info: [String: Any] = ["format": format]
        if let net {
            info["model"] = net.kind
            info["training"] = net.training
            if let shape = net.inputShape { info["input_shape"] = shape }
            switch Architecture.describe(net) {
            case .success(let d): info["architecture"] = d
            case .failure(let why): info["architecture_missing"] = why.message
            }
        }
        if let optimizer {
            for (i, name) in optimizer.names.enumerated() {
                for (key, t) in optimizer.state[i].sorted(by: { $0.key < $1.key }) {
                    entries.append(.init(optimizerPrefix + name + "/" + key, t))
                }
            }
            info["optimizer"] = ["kind": optimizer.kind, "iteration": optimizer.iteration,
                                 "settings": optimizer.settings, "names": optimizer.names] as [String: Any]
        }
        if let rng { info["rng"] = rng.snapshot.map { String($0) } }
        var metadata = user
        metadata["lopper"] = String(data: try JSONSerialization.data(withJSONObject: info, options: [.sortedKeys]), encoding: .utf8)
        try Safetensors.save(path, entries, metadata: metadata)
    }

    /// The network a checkpoint describes, rebuilt from its architecture (thinner layers of
    /// a compacted network included) and loaded with its state and masks; and the caller's
    /// metadata strings.
    public static func network(_ path: String) throws -> (Module, [String: String]) {
        let (_, metadata) = try Safetensors.load(path)
        guard let s = metadata["lopper"] else {
            throw TensorError("checkpoint \(path): no Lopper metadata (a safetensors file Lopper did not write); build the network and use lp.checkpoint.load")
        }
        guard let d = s.data(using: .utf8), let info = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else {
            throw TensorError("checkpoint \(path): its Lopper metadata is not a JSON object (malformed, or nested too deep)")
        }
        guard let arch = info["architecture"] else {
            let why = info["architecture_missing"] as? String ?? "it was saved without one"
            throw TensorError("checkpoint \(path) holds no architecture: \(why)")
        }
        let random = RandomGenerator.shared.snapshot
        defer { try? RandomGenerator.shared.restore(random) }
        let net: Module
        do { net = try Architecture.build(arch) } catch let e as TensorError { throw TensorError("checkpoint \(path): \(e.message)") }
        if let shape = info["input_shape"] as? [Int], shape.allSatisfy({ $0 > 0 }) { net.inputShape = shape }
        let meta = try load(path, net: net, rng: nil, strict: true, requireRNG: false)
        net.train(info["training"] as? Bool ?? true)
        return (net, meta)
    }

    /// Restores what is asked for; returns the caller's metadata strings.
    @discardableResult
    public static func load(_ path: String, net: Module?, optimizer: Optimizer? = nil, rng: RandomGenerator? = nil,
                            strict: Bool = true, requireRNG: Bool = true) throws -> [String: String] {
        let (tensors, metadata) = try Safetensors.load(path)
        let source = "checkpoint \(path)"
        var info: [String: Any] = [:]
        if let s = metadata["lopper"], let d = s.data(using: .utf8), let j = try? JSONSerialization.jsonObject(with: d) as? [String: Any] {
            info = j
        }
        if let net {
            let params = Dictionary(net.namedParameters(), uniquingKeysWith: { a, _ in a })
            var state: [String: Tensor] = [:]
            var masks: [(Tensor, Tensor)] = []
            for (name, t) in tensors where !name.hasPrefix(optimizerPrefix) {
                if name.hasSuffix(maskSuffix), let p = params[String(name.dropLast(maskSuffix.count))] {
                    guard t.shape == p.shape else {
                        throw TensorError("\(source): \(name) has shape \(describeShape(t.shape)) in the file but the parameter is \(describeShape(p.shape))")
                    }
                    if let bad = t.toArray().first(where: { $0 != 0 && $0 != 1 }) {
                        throw TensorError("\(source): \(name) holds \(bad); a mask holds only 0 and 1")
                    }
                    masks.append((p, t))
                } else {
                    state[name] = t
                }
            }
            // A file with masks replaces the model's; one without (a dense snapshot loaded to
            // rewind a pruned model) keeps them, and loading re-applies them.
            if !masks.isEmpty {
                for (_, p) in params { p.mask = nil }
                for (p, m) in masks { p.mask = m }
            }
            try net.loadStateDict(state, strict: strict, source: source)
        }
        if let optimizer {
            guard let o = info["optimizer"] as? [String: Any], let kind = o["kind"] as? String else {
                throw TensorError("\(source): the file holds no optimizer state")
            }
            guard kind == optimizer.kind else { throw TensorError("\(source): the file holds \(kind) state, the optimizer is \(optimizer.kind)") }
            var restored: [[String: Tensor]] = Array(repeating: [:], count: optimizer.params.count)
            for (name, t) in tensors where name.hasPrefix(optimizerPrefix) {
                let rest = name.dropFirst(optimizerPrefix.count)
                guard let slash = rest.lastIndex(of: "/") else { throw TensorError("\(source): malformed optimizer entry \(name)") }
                let param = String(rest[..<slash]), key = String(rest[rest.index(after: slash)...])
                guard let i = optimizer.names.firstIndex(of: param) else {
                    throw TensorError("\(source): optimizer state for \(param), which the optimizer does not have")
                }
                let want = key == "step" ? [] : optimizer.params[i].shape
                guard t.shape == want else {
                    throw TensorError("\(source): optimizer \(key) of \(param) has shape \(describeShape(t.shape)) in the file but \(describeShape(want)) in the model")
                }
                restored[i][key] = t
            }
            optimizer.state = restored
            optimizer.iteration = o["iteration"] as? Int ?? 0
        }
        if let rng, info["rng"] != nil || requireRNG {
            guard let words = info["rng"] as? [String] else { throw TensorError("\(source): the file holds no random state") }
            try rng.restore(try words.map { w in
                guard let v = UInt64(w) else { throw TensorError("\(source): malformed random state \(w)") }
                return v
            })
        }
        var user = metadata
        user.removeValue(forKey: "lopper")
        return user
    }
}

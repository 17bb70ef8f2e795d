import Foundation
import LopperCore

/// A network's structure as JSON: kinds, sizes and settings of every module, children by
/// name. Checkpoints carry it, so a network — a compacted one with its thinner layers
/// too — is rebuilt from its file alone (`lp.models.load`), without the script that made it.
public enum Architecture {
    /// Modules nested deeper than this are refused when read (a file is not trusted).
    static let maxDepth = 100

    /// The description of `m`, or why it has none: the path and kind of a module Lopper
    /// cannot rebuild (a Lua-written one, a sparse layer).
    public static func describe(_ m: Module, path: String = "") -> Result<[String: Any], TensorError> {
        var d: [String: Any] = ["kind": m.kind]
        switch m {
        case let l as Linear:
            d["in"] = l.inFeatures; d["out"] = l.outFeatures; d["bias"] = l.bias != nil
        case let c as Conv2d:
            d["in"] = c.inChannels; d["out"] = c.outChannels; d["bias"] = c.bias != nil
            d["kernel"] = [c.weight.shape[2], c.weight.shape[3]]
            d["stride"] = [c.stride.0, c.stride.1]; d["padding"] = [c.padding.0, c.padding.1]
        case let b as BatchNorm:
            d["channels"] = b.channels; d["eps"] = Double(b.eps); d["momentum"] = Double(b.momentum)
        case let p as Pool2d:
            d["settings"] = p.settings
        case let p as Dropout:
            d["p"] = Double(p.p)
        case is Elementwise:
            guard elementwise(m.kind) != nil else { return .failure(refusal(m, path)) }
        case let r as Residual:
            d["class"] = "Residual"; d["scale"] = Double(r.scale); d["relu"] = r.activate
        case let b as BasicBlock:
            d["class"] = "BasicBlock"; d["scale"] = Double(b.scale)
        case is Sequential:
            d["class"] = "Sequential"
        default:
            return .failure(refusal(m, path))
        }
        var children: [[Any]] = []
        for (name, child) in m.children {
            switch describe(child, path: path.isEmpty ? name : path + "." + name) {
            case .success(let c): children.append([name, c])
            case .failure(let e): return .failure(e)
            }
        }
        if !children.isEmpty { d["children"] = children }
        return .success(d)
    }

    static func refusal(_ m: Module, _ path: String) -> TensorError {
        TensorError("\(path.isEmpty ? "the network" : path) is a \(m.kind), which Lopper cannot rebuild from a file; load the checkpoint into a network the script builds")
    }

    static func elementwise(_ kind: String) -> Module? {
        switch kind {
        case "ReLU": return try? Elementwise.relu()
        case "Tanh": return try? Elementwise.tanh()
        case "Sigmoid": return try? Elementwise.sigmoid()
        case "Identity": return Elementwise.identity()
        case "Flatten": return Elementwise.flatten()
        default:
            guard kind.hasPrefix("LeakyReLU("), kind.hasSuffix(")"), let s = Float(kind.dropFirst(10).dropLast()), s.isFinite else { return nil }
            return Elementwise.leakyReLU(s)
        }
    }

    /// The network `d` describes, with fresh tensors (the checkpoint's state goes in after).
    public static func build(_ d: Any, path: String = "", depth: Int = 0) throws -> Module {
        let at = path.isEmpty ? "the network" : path
        guard depth < maxDepth else { throw TensorError("architecture: modules nested deeper than \(maxDepth) at \(at)") }
        guard let d = d as? [String: Any], let kind = d["kind"] as? String else {
            throw TensorError("architecture: \(at) is not a module description {kind = …}")
        }
        var children: [(String, Module)] = []
        if let list = d["children"] {
            guard let list = list as? [[Any]] else { throw TensorError("architecture: \(at) has malformed children") }
            for entry in list {
                guard entry.count == 2, let name = entry[0] as? String, !name.isEmpty, !name.contains(".") else {
                    throw TensorError("architecture: \(at) has a child without a name")
                }
                children.append((name, try build(entry[1], path: path.isEmpty ? name : path + "." + name, depth: depth + 1)))
            }
        }
        do { return try make(kind, d, children, at) } catch let e as AllocationError {
            throw TensorError("architecture: \(at) (\(kind)): \(e.description)")
        } catch let e as TensorError where !e.message.hasPrefix("architecture:") {
            throw TensorError("architecture: \(at) (\(kind)): \(e.message)")
        }
    }

    static func make(_ kind: String, _ d: [String: Any], _ children: [(String, Module)], _ at: String) throws -> Module {
        func int(_ key: String) throws -> Int {
            guard let v = d[key] as? Int, v > 0 else { throw TensorError("architecture: \(at) (\(kind)) needs a positive integer \(key), got \(String(describing: d[key] ?? "nothing"))") }
            return v
        }
        func ints(_ key: String, _ count: Int, min: Int = 1) throws -> [Int] {
            guard let v = d[key] as? [Int], v.count == count, v.allSatisfy({ $0 >= min && $0 < 1 << 24 }) else {
                throw TensorError("architecture: \(at) (\(kind)) needs \(key) as \(count) integers ≥ \(min), got \(String(describing: d[key] ?? "nothing"))")
            }
            return v
        }
        func number(_ key: String) throws -> Float {
            guard let v = (d[key] as? NSNumber)?.floatValue, v.isFinite else { throw TensorError("architecture: \(at) (\(kind)) needs a number \(key)") }
            return v
        }
        func bool(_ key: String) -> Bool { (d[key] as? Bool) ?? false }
        let m: Module
        switch (d["class"] as? String, kind) {
        case ("Sequential", _):
            return Sequential(children, kind: kind)
        case ("Residual", _):
            guard (1...2).contains(children.count) else { throw TensorError("architecture: \(at) (Residual) needs a body and at most a shortcut") }
            return Residual(body: children[0].1, shortcut: children.count > 1 ? children[1].1 : nil, scale: try number("scale"), relu: bool("relu"))
        case ("BasicBlock", _):
            guard children.count == 4 || children.count == 5 else { throw TensorError("architecture: \(at) (BasicBlock) needs conv1, bn1, conv2, bn2 and a shortcut or none") }
            let b = BasicBlock(scale: try number("scale"))
            for (name, child) in children { b.addChild(name, child) }
            return b
        case (_, "Linear"):
            m = try Linear(try int("in"), try int("out"), bias: bool("bias"))
        case (_, "Conv2d"):
            let k = try ints("kernel", 2), s = try ints("stride", 2), p = try ints("padding", 2, min: 0)
            m = try Conv2d(try int("in"), try int("out"), kernel: (k[0], k[1]), stride: (s[0], s[1]), padding: (p[0], p[1]), bias: bool("bias"))
        case (_, "BatchNorm1d"), (_, "BatchNorm2d"):
            m = try BatchNorm(try int("channels"), eps: try number("eps"), momentum: try number("momentum"), spatial: kind == "BatchNorm2d")
        case (_, "MaxPool2d"), (_, "AvgPool2d"):
            let s = try ints("settings", 3, min: 0)
            guard s[0] >= 1 else { throw TensorError("architecture: \(at) (\(kind)) needs a kernel of at least 1") }
            m = kind == "MaxPool2d" ? Pool2d.max(s[0], stride: s[1] == 0 ? nil : s[1], padding: s[2])
                                    : Pool2d.average(s[0], stride: s[1] == 0 ? nil : s[1], padding: s[2])
        case (_, "AdaptiveAvgPool2d"):
            let s = try ints("settings", 2)
            m = Pool2d.adaptiveAverage(s[0], s[1])
        case (_, "Dropout"):
            m = try Dropout(try number("p"))
        default:
            guard let e = elementwise(kind) else { throw TensorError("architecture: \(at) is a \(kind), which Lopper does not know how to build") }
            m = e
        }
        guard children.isEmpty else { throw TensorError("architecture: \(at) (\(kind)) cannot have children") }
        return m
    }
}

import LopperCore
import LopperNN

/// Layer collapse beyond empty layers: whether any path of kept weights still joins the
/// input to the output.
enum Connectivity {
    /// Runs an all-ones input through the network with every weight replaced by its mask
    /// (1 where unmasked), biases and BatchNorm shifts at 0, BatchNorm as the identity, in
    /// eval mode: the output is positive exactly when a path survives. Restores the
    /// network afterwards. Nil when the input shape is unknown or a layer is written in Lua.
    static func hasPath(_ net: Module) throws -> Bool? {
        guard let inputShape = net.inputShape else { return nil }
        return try Scratch.evaluate(net) { try Autograd.noGrad { () throws -> Bool? in
            for (_, m) in net.namedModules() {
                switch m {
                case let l as Linear: try reset(l.weight); l.bias?.zero_()
                case let c as Conv2d: try reset(c.weight); c.bias?.zero_()
                case let b as BatchNorm:
                    b.weight.fill_(1); b.bias.zero_()
                    for (name, t) in b.localBuffers where name == "running_mean" { t.zero_() }
                    for (name, t) in b.localBuffers where name == "running_var" { t.fill_(1) }
                default:
                    if !m.localParameters.isEmpty && m.children.isEmpty { return nil }
                }
            }
            let y = try net(Tensor(filled: 1, shape: [1] + inputShape))
            return try y.abs().sum().item() > 0
        } }
    }

    static func reset(_ w: Tensor) throws {
        if let m = w.mask { try w.copy_(m) } else { w.fill_(1) }
    }
}

/// Work on a network's values that must not outlive the call.
enum Scratch {
    /// Runs `body` in eval mode, then restores every parameter, buffer and training flag.
    static func evaluate<T>(_ net: Module, _ body: () throws -> T) rethrows -> T {
        let state = net.stateDict()
        let saved = try state.map { try $0.1.clone().detach() }
        defer { Autograd.noGrad { for ((_, t), s) in zip(state, saved) { try? t.copy_(s) } } }
        return try net.evaluating(body)
    }
}

import LopperCore
import LopperNN

/// A copy of a network's parameters and buffers, and optionally of an optimizer's state
/// and step, taken at one moment of training (initialisation, or step k).
public final class Snapshot {
    public let state: [String: Tensor]
    public let optimizerState: [[String: Tensor]]?
    /// The optimizer's step count when taken (the schedule's position).
    public let iteration: Int?

    public init(_ net: Module, optimizer: Optimizer? = nil) throws {
        state = Dictionary(try net.stateDict().map { ($0.0, try $0.1.clone().detach()) }, uniquingKeysWith: { a, _ in a })
        optimizerState = try optimizer?.state.map { try $0.mapValues { try $0.clone().detach() } }
        iteration = optimizer?.iteration
    }

    /// Weight rewinding: the network's values back to the snapshot's, masks kept (removed
    /// weights stay zero). With an optimizer, its state and step go back too (to
    /// step 0 and no state when the snapshot holds none) (rewinding
    /// to step k also rewinds the learning-rate schedule); state of removed weights is zero.
    public func rewind(_ net: Module, optimizer: Optimizer? = nil) throws {
        try net.loadStateDict(state, strict: true, source: "rewind")
        guard let optimizer else { return }
        // A snapshot taken without an optimizer is the start of training: step 0, no state.
        optimizer.iteration = iteration ?? 0
        if let saved = optimizerState, saved.count == optimizer.params.count {
            optimizer.state = try saved.map { try $0.mapValues { try $0.clone().detach() } }
        } else {
            optimizer.state = Array(repeating: [:], count: optimizer.params.count)
        }
        for (i, p) in optimizer.params.enumerated() {
            if let m = p.mask { try optimizer.resetState(i, keep: m) }
        }
    }

    /// Learning-rate rewinding (Renda et al. 2020): only the optimizer's step goes back,
    /// so the schedule replays from there; weights and optimizer state stay.
    public func rewindSchedule(_ optimizer: Optimizer) throws {
        guard let iteration else {
            throw TensorError("rewind: the snapshot was taken without an optimizer, so it holds no schedule position")
        }
        optimizer.iteration = iteration
    }
}

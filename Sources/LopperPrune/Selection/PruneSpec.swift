import Foundation
import LopperCore

/// What one pruning call does.
public struct PruneSpec {
    /// How much: a fraction of what remains to remove (like `torch.nn.utils.prune`), or the
    /// fraction of all prunable weights to keep.
    /// Or exactly `count` units (weights, or channels) removed, chosen across the layers.
    public enum Target { case amount(Double), density(Double), count(Int) }
    /// How a channel's score comes from its weights' scores: their sum, or their largest
    /// (scores that give the channel's value to each of its weights).
    public enum ChannelReduce { case sum, max }
    /// One threshold over all layers, or the same fraction in each.
    public enum Scope: String { case global, layer }
    /// Single weights, whole output channels (rows of Linear, filters of Conv2d), or the
    /// channels of dependency groups (each removed from its producers, batch norms and
    /// consumers at once; see `DependencyGroups`).
    public enum Structure: String { case unstructured, channel, group }
    /// How a group's channel score comes from its members' scores for that channel.
    public enum GroupReduce {
        case sum, mean, max
        /// The producers' rows summed, the consumers left out: a filter's own score (Li et al.).
        case producers
        /// Scores [members, channels] → [channels].
        case custom((Tensor) throws -> Tensor)
    }
    /// How iterative pruning approaches the target (SynFlow: exponential).
    public enum Schedule: String { case exponential, linear }

    public var target: Target
    public var scope: Scope = .global
    /// Per-layer densities for a density target; implies layer scope when not uniform.
    public var allocation: Allocation = .uniform
    /// Per-layer values of the target's kind (Frankle & Carbin prune the output layer at
    /// half the rate): those layers are pruned alone, the rest by `scope`.
    public var overrides: [String: Double] = [:]
    public var structure: Structure = .unstructured
    public var channelReduce: ChannelReduce = .sum
    public var groupReduce: GroupReduce = .sum
    /// One sample's shape, for tracing groups of a network that does not know it.
    public var inputShape: [Int]?
    /// Global pruning keeps at least this many units per layer (weights or channels); what
    /// a layer at its floor cannot give is taken from the others (the target is missed only
    /// when every layer is at its floor).
    public var minPerLayer = 0
    /// Rounds of scoring and pruning (SynFlow: 100), the target reached at the last.
    public var iterations = 1
    public var schedule: Schedule = .exponential

    public init(target: Target) { self.target = target }

    /// The fraction of prunable weights (or channels) to keep after round k of n, starting
    /// from `start`.
    func density(round k: Int, of n: Int, start: Double, final: Double) -> Double {
        if n == 1 { return final }
        let t = Double(k) / Double(n)
        switch schedule {
        case .exponential: return start * pow(final / start, t)
        case .linear: return start + (final - start) * t
        }
    }
}

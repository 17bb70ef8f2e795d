/// One recorded operation: its inputs and how to turn the gradient of its output into
/// gradients of its inputs. Backward functions are written with tensor ops, so they are
/// recorded too when a graph of the backward pass is asked for (double backward).
public final class GradNode {
    public let name: String
    public private(set) var inputs: [Tensor]
    /// Gradients for `inputs`, in order; nil where an input gets none.
    private(set) var backward: (Tensor) throws -> [Tensor?]
    /// Whether a backward pass has used and freed this node.
    private(set) var released = false

    init(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }

    /// Frees what the node holds (its inputs and the tensors its backward saved), as a
    /// backward pass does unless asked to keep the graph.
    func release() {
        inputs = []
        backward = { _ in [] }
        released = true
    }
}

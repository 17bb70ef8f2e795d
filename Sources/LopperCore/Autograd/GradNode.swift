/// One recorded operation: its inputs and how to turn the gradient of its output into
/// gradients of its inputs. Backward functions are written with tensor ops, so they are
/// recorded too when a graph of the backward pass is asked for (double backward).
public final class GradNode {
    public let name: String
    let inputs: [Tensor]
    /// Gradients for `inputs`, in order; nil where an input gets none.
    let backward: (Tensor) throws -> [Tensor?]

    init(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

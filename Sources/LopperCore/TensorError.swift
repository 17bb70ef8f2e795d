/// An error from a tensor operation. The message names the operation, what it expected
/// and what it got: `matmul: [3,4] and [5,6] do not align`.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Formats a shape the way error messages and `tostring` show it: `[3,4]`.
public func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ",") + "]"
}

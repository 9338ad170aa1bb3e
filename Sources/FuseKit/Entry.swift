/// A lookup's answer: the node the kernel may now use, its attributes, and how long both stay valid.
public struct Entry: Sendable {
    public var node: NodeID
    public var attributes: Attributes
    public var entryTimeout: Double
    public var attrTimeout: Double

    public init(node: NodeID, attributes: Attributes, entryTimeout: Double, attrTimeout: Double) {
        self.node = node
        self.attributes = attributes
        self.entryTimeout = entryTimeout
        self.attrTimeout = attrTimeout
    }
}

/// The answer to an operation that returns attributes (getattr, setattr).
public struct AttributesReply: Sendable {
    public var attributes: Attributes
    public var timeout: Double

    public init(attributes: Attributes, timeout: Double) {
        self.attributes = attributes
        self.timeout = timeout
    }
}

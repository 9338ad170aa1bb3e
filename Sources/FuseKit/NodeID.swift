/// The number by which the kernel names an inode it learned from us (`fuse_ino_t`).
public struct NodeID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// FUSE_ROOT_ID: the mount's root is always node 1.
    public static let root = NodeID(1)
    /// Node 0 in an entry reply means "no inode": a negative lookup, or a listed-only readdirplus entry.
    public static let none = NodeID(0)

    public var description: String { String(rawValue) }
}

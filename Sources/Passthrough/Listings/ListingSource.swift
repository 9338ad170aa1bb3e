import FuseKit
import LinuxKit

/// What the listing pipeline needs from the tree of nodes: directories opened safely, where a node
/// is, and lookups ahead of a walker. `BackingTree` is the one real source; tests may give another.
protocol ListingSource: Sendable {
    /// An open directory descriptor for `node` (`O_RDONLY | O_DIRECTORY`), verified to be its inode.
    func openDirectory(_ node: NodeID) throws(Errno) -> FileDescriptor
    /// The directory at `path` (names joined by "/", NUL-terminated) beneath `parent`, opened
    /// without following any link and never above `parent`, if it is still the inode `key`; nil otherwise.
    func openSubdirectory(of parent: NodeID, at path: [UInt8], ifStill key: InodeKey) -> FileDescriptor?
    /// The node's path from the root (NUL-terminated), if it has a name.
    func path(of node: NodeID) -> [UInt8]?
    /// Resolves `path` (beneath the root, NUL-terminated) and lets go of it, so on a share its names
    /// are in the client's caches when the walker asks; false when it leads nowhere beneath the root.
    func lookUp(_ path: [UInt8]) -> Bool
}

import LinuxKit
/// Where readdir puts entries: the bridge's reply buffer. `add` returns false when the entry does
/// not fit; the filesystem then stops and the entry is listed again at the next call.
public protocol DirectorySink {
    /// Whether the kernel asked for READDIRPLUS (entries with attributes and node IDs).
    var wantsAttributes: Bool { get }

    /// About how many more entries fit: how many lstats one reply is worth.
    var remainingCapacityHint: Int { get }

    /// Adds a READDIR entry: name, inode number, d_type and the offset of the entry after it.
    mutating func add(name: UnsafePointer<CChar>, inode: UInt64, type: FileType, nextOffset: Int64) -> Bool

    /// Adds a READDIRPLUS entry. `entry.node == .none` lists the name without creating an inode.
    mutating func add(name: UnsafePointer<CChar>, entry: Entry, nextOffset: Int64) -> Bool
}

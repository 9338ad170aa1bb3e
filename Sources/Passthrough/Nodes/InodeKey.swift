import Glibc
import FuseKit
import LinuxKit

/// What identifies a backing object: device, inode number and type. The type is part of the key so
/// that an inode number reused for an object of another type (another client deleted and created)
/// becomes a new node instead of confusing the kernel's cached inode.
struct InodeKey: Hashable, Sendable {
    // Ordered for a 16-byte layout: the node table holds one or two keys per node.
    var inode: UInt64
    /// The kernel's device numbers have 32 bits (12 major, 20 minor), which glibc's 64-bit dev_t
    /// encodes in its low 32; anything above is folded in rather than dropped.
    var device: UInt32
    var type: FileType

    init(device: UInt64, inode: UInt64, type: FileType) {
        self.inode = inode
        self.device = UInt32(truncatingIfNeeded: device) ^ UInt32(truncatingIfNeeded: device >> 32)
        self.type = type
    }

    init(_ status: stat) {
        self.init(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), type: FileType(mode: status.st_mode))
    }
}

extension InodeKey {
    /// The key of the object behind an open descriptor, from the cache when possible. `statx`
    init(of descriptor: Int32) throws(Errno) {
        let identity = try SystemCall.identity(of: descriptor)
        self.init(device: identity.device, inode: identity.inode, type: identity.type)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import FuseKit

/// What identifies a backing object: device, inode number and type. The type is part of the key so
/// that an inode number reused for an object of another type (another client deleted and created)
/// becomes a new node instead of confusing the kernel's cached inode.
struct InodeKey: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var type: FileType

    init(device: UInt64, inode: UInt64, type: FileType) {
        self.device = device
        self.inode = inode
        self.type = type
    }

    init(_ status: stat) {
        self.init(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), type: FileType(mode: status.st_mode))
    }
}

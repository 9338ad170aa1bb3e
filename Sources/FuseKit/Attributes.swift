import Glibc
import LinuxKit

/// An inode's attributes exactly as the backing filesystem's `stat` gave them.
public struct Attributes: @unchecked Sendable {
    public var stat: stat

    @inlinable public init(_ stat: stat) { self.stat = stat }

    @inlinable public var mode: mode_t { stat.st_mode }
    @inlinable public var fileType: FileType { FileType(mode: stat.st_mode) }
    @inlinable public var inode: UInt64 { UInt64(stat.st_ino) }
    @inlinable public var device: UInt64 { UInt64(stat.st_dev) }
}

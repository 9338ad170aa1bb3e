import Glibc

/// An inode's attributes exactly as the backing filesystem's `stat` gave them.
public struct Attributes: @unchecked Sendable {
    public var stat: stat

    @inlinable public init(_ stat: stat) { self.stat = stat }

    @inlinable public var mode: mode_t { stat.st_mode }
    @inlinable public var fileType: FileType { FileType(mode: stat.st_mode) }
    @inlinable public var inode: UInt64 { UInt64(stat.st_ino) }
    @inlinable public var device: UInt64 { UInt64(stat.st_dev) }
}

/// The type of a directory entry, in the two encodings the kernel uses: `st_mode`'s S_IFMT bits and
/// readdir's `d_type` (which is S_IFMT >> 12).
public enum FileType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case unknown = 0
    case fifo = 1
    case characterDevice = 2
    case directory = 4
    case blockDevice = 6
    case regular = 8
    case symbolicLink = 10
    case socket = 12

    @inlinable public init(mode: mode_t) {
        self = FileType(rawValue: UInt8(truncatingIfNeeded: (mode & S_IFMT) >> 12)) ?? .unknown
    }

    @inlinable public init(directoryEntryType: UInt8) {
        self = FileType(rawValue: directoryEntryType) ?? .unknown
    }

    /// The d_type value readdir reports for this type.
    @inlinable public var directoryEntryType: UInt8 { rawValue }

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .fifo: "fifo"
        case .characterDevice: "char-device"
        case .directory: "directory"
        case .blockDevice: "block-device"
        case .regular: "regular"
        case .symbolicLink: "symlink"
        case .socket: "socket"
        }
    }
}

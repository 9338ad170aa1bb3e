import Glibc

/// The type of a file, in the two encodings the kernel uses: `st_mode`'s S_IFMT bits and
/// getdents' `d_type` (which is S_IFMT >> 12). One vocabulary for the filesystem (what readdir
/// reports) and for `check` (does the reported type lie?).
public enum FileType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// `DT_UNKNOWN`: the filesystem declines to say; callers must lstat. Honest by definition.
    case unknown = 0
    case fifo = 1
    case characterDevice = 2
    case directory = 4
    case blockDevice = 6
    case regular = 8
    case symbolicLink = 10
    case socket = 12
    /// `DT_WHT`, a union-mount whiteout: a d_type only, lstat never says it.
    case whiteout = 14

    /// The type an `st_mode` (from lstat or stat) states; `.unknown` for bits outside S_IFMT's set.
    @inlinable public init(mode: mode_t) {
        let type = FileType(rawValue: UInt8(truncatingIfNeeded: (mode & S_IFMT) >> 12)) ?? .unknown
        self = type == .whiteout ? .unknown : type
    }

    /// The type a getdents64 record's `d_type` claims; nil for a value outside the Linux ABI's set.
    @inlinable public init?(exactDirectoryEntryType type: UInt8) {
        self.init(rawValue: type)
    }

    /// The type a `d_type` claims, `.unknown` for a value outside the ABI's set.
    @inlinable public init(directoryEntryType: UInt8) {
        self = FileType(rawValue: directoryEntryType) ?? .unknown
    }

    /// The d_type value readdir reports for this type.
    @inlinable public var directoryEntryType: UInt8 { rawValue }

    /// The `DT_*` constant's name of a d_type byte, known or not (`DT_3`).
    public static func directoryEntryTypeName(_ type: UInt8) -> String {
        switch FileType(exactDirectoryEntryType: type) {
        case .unknown?: "DT_UNKNOWN"
        case .fifo?: "DT_FIFO"
        case .characterDevice?: "DT_CHR"
        case .directory?: "DT_DIR"
        case .blockDevice?: "DT_BLK"
        case .regular?: "DT_REG"
        case .symbolicLink?: "DT_LNK"
        case .socket?: "DT_SOCK"
        case .whiteout?: "DT_WHT"
        case nil: "DT_\(type)"
        }
    }

    /// A short word for the type, the same in logs, text and JSON reports.
    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .fifo: "fifo"
        case .characterDevice: "char-device"
        case .directory: "directory"
        case .blockDevice: "block-device"
        case .regular: "file"
        case .symbolicLink: "symlink"
        case .socket: "socket"
        case .whiteout: "whiteout"
        }
    }
}

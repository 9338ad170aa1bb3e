import Glibc

/// The type of a directory entry, as either getdents64's `d_type` or `st_mode` can express it.
///
/// The two vocabularies are mapped onto one enum so that "does the d_type lie?" is a plain
/// equality test; `unknown` is the d_type-only answer that means "ask lstat" and never lies.
enum FileKind: Equatable, Hashable, Sendable {
    case regular
    case directory
    case symlink
    case characterDevice
    case blockDevice
    case fifo
    case socket
    /// BSD union-mount whiteout (`DT_WHT`): Linux overlayfs may report it, lstat never does.
    case whiteout
    /// `DT_UNKNOWN`: the filesystem declines to say; callers must lstat. Honest by definition.
    case unknown
    /// A d_type or `S_IFMT` value outside the known set, kept verbatim so reports stay exact.
    case other(UInt32)

    // The DT_* values are fixed by the Linux ABI (include/linux/fs_types.h); Glibc's Swift
    // import does not expose them as constants, so they are spelled here once.
    static let dtUnknown: UInt8 = 0
    static let dtFifo: UInt8 = 1
    static let dtChr: UInt8 = 2
    static let dtDir: UInt8 = 4
    static let dtBlk: UInt8 = 6
    static let dtReg: UInt8 = 8
    static let dtLnk: UInt8 = 10
    static let dtSock: UInt8 = 12
    static let dtWht: UInt8 = 14

    /// The kind a getdents64 record's `d_type` byte claims.
    init(dType: UInt8) {
        switch dType {
        case Self.dtUnknown: self = .unknown
        case Self.dtFifo: self = .fifo
        case Self.dtChr: self = .characterDevice
        case Self.dtDir: self = .directory
        case Self.dtBlk: self = .blockDevice
        case Self.dtReg: self = .regular
        case Self.dtLnk: self = .symlink
        case Self.dtSock: self = .socket
        case Self.dtWht: self = .whiteout
        default: self = .other(UInt32(dType))
        }
    }

    /// The kind an `st_mode` (from lstat or stat) states.
    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        default: self = .other(UInt32(mode & S_IFMT))
        }
    }

    /// The `DT_*` constant's name, for showing what getdents reported.
    var dTypeName: String {
        switch self {
        case .regular: return "DT_REG"
        case .directory: return "DT_DIR"
        case .symlink: return "DT_LNK"
        case .characterDevice: return "DT_CHR"
        case .blockDevice: return "DT_BLK"
        case .fifo: return "DT_FIFO"
        case .socket: return "DT_SOCK"
        case .whiteout: return "DT_WHT"
        case .unknown: return "DT_UNKNOWN"
        case .other(let value): return "DT_\(value)"
        }
    }

    /// A short human word for the kind, the same in text and JSON output.
    var name: String {
        switch self {
        case .regular: return "file"
        case .directory: return "directory"
        case .symlink: return "symlink"
        case .characterDevice: return "char-device"
        case .blockDevice: return "block-device"
        case .fifo: return "fifo"
        case .socket: return "socket"
        case .whiteout: return "whiteout"
        case .unknown: return "unknown"
        case .other(let value): return "other(\(value))"
        }
    }
}

import LinuxKit
/// An entry whose getdents64 d_type contradicts its lstat type, with what a reader needs to act
/// on it: for a symlink, where it points and what is there.
struct Finding: Equatable, Sendable {
    /// Where a symlink leads, each half possibly failed on its own (a dangling link has a target
    /// but no target type).
    struct LinkTarget: Equatable, Sendable {
        let target: Result<[UInt8], Errno>
        let kind: Result<FileType, Errno>
    }

    /// The entry's path as given on the command line joined with the names below it, byte-exact.
    let path: [UInt8]
    let reported: UInt8
    let actual: FileType
    let link: LinkTarget?

    /// True when a d_type is a claim (anything but DT_UNKNOWN) and the claim is wrong.
    /// DT_UNKNOWN is the filesystem saying "ask lstat": honest, and counted separately.
    static func isLie(reported: UInt8, actual: FileType) -> Bool {
        reported != FileType.unknown.rawValue && reported != actual.rawValue
    }
}

/// How reports name a reported d_type byte: exactly, unknown values included (`DT_3`, `other(3)`).
protocol ReportsDirectoryEntryType {
    var reported: UInt8 { get }
}

extension ReportsDirectoryEntryType {
    var reportedName: String { FileType.directoryEntryTypeName(reported) }
    var reportedWord: String { FileType(exactDirectoryEntryType: reported)?.description ?? "other(\(reported))" }
}

extension Finding: ReportsDirectoryEntryType {}
extension CheckReport.Transition: ReportsDirectoryEntryType {}

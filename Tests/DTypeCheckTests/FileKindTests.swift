import Glibc
import Testing
@testable import DTypeCheck

@Suite struct FileKindTests {
    @Test func dTypeBytesMapToKinds() {
        // The Linux ABI values, spelled out so a wrong constant in FileKind fails here.
        let expected: [(UInt8, FileKind, String)] = [
            (0, .unknown, "DT_UNKNOWN"), (1, .fifo, "DT_FIFO"), (2, .characterDevice, "DT_CHR"),
            (4, .directory, "DT_DIR"), (6, .blockDevice, "DT_BLK"), (8, .regular, "DT_REG"),
            (10, .symlink, "DT_LNK"), (12, .socket, "DT_SOCK"), (14, .whiteout, "DT_WHT"),
        ]
        for (byte, kind, name) in expected {
            #expect(FileKind(dType: byte) == kind)
            #expect(FileKind(dType: byte).dTypeName == name)
        }
        #expect(FileKind(dType: 3) == .other(3))
        #expect(FileKind(dType: 3).dTypeName == "DT_3")
    }

    @Test func modesMapToKindsIgnoringPermissionBits() {
        #expect(FileKind(mode: S_IFREG | 0o644) == .regular)
        #expect(FileKind(mode: S_IFDIR | 0o1777) == .directory)
        #expect(FileKind(mode: S_IFLNK | 0o777) == .symlink)
        #expect(FileKind(mode: S_IFCHR) == .characterDevice)
        #expect(FileKind(mode: S_IFBLK) == .blockDevice)
        #expect(FileKind(mode: S_IFIFO | 0o600) == .fifo)
        #expect(FileKind(mode: S_IFSOCK) == .socket)
    }

    @Test func dTypeAndModeAgreeForEveryRealType() {
        // getdents' DT_x is (S_IFx >> 12): both paths must land on the same kind.
        for mode in [S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK] {
            #expect(FileKind(dType: UInt8(mode >> 12)) == FileKind(mode: mode))
        }
    }

    @Test func unknownNeverLiesAndOnlyAContradictionDoes() {
        #expect(!Finding.isLie(reported: .unknown, actual: .symlink))
        #expect(!Finding.isLie(reported: .symlink, actual: .symlink))
        #expect(Finding.isLie(reported: .regular, actual: .symlink))
        #expect(Finding.isLie(reported: .directory, actual: .regular))
    }
}

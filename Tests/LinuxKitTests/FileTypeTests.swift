import Glibc
import LinuxKit
import Testing

@Suite struct FileTypeTests {
    @Test func directoryEntryTypesMapToTypes() {
        // The Linux ABI values, spelled out so a wrong constant in FileType fails here.
        let expected: [(UInt8, FileType, String)] = [
            (0, .unknown, "DT_UNKNOWN"), (1, .fifo, "DT_FIFO"), (2, .characterDevice, "DT_CHR"),
            (4, .directory, "DT_DIR"), (6, .blockDevice, "DT_BLK"), (8, .regular, "DT_REG"),
            (10, .symbolicLink, "DT_LNK"), (12, .socket, "DT_SOCK"), (14, .whiteout, "DT_WHT"),
        ]
        for (byte, type, name) in expected {
            #expect(FileType(exactDirectoryEntryType: byte) == type)
            #expect(FileType.directoryEntryTypeName(byte) == name)
        }
        #expect(FileType(exactDirectoryEntryType: 3) == nil)
        #expect(FileType(directoryEntryType: 3) == .unknown)
        #expect(FileType.directoryEntryTypeName(3) == "DT_3")
    }

    @Test func modesMapToTypesIgnoringPermissionBits() {
        #expect(FileType(mode: S_IFREG | 0o644) == .regular)
        #expect(FileType(mode: S_IFDIR | 0o1777) == .directory)
        #expect(FileType(mode: S_IFLNK | 0o777) == .symbolicLink)
        #expect(FileType(mode: S_IFCHR) == .characterDevice)
        #expect(FileType(mode: S_IFBLK) == .blockDevice)
        #expect(FileType(mode: S_IFIFO | 0o600) == .fifo)
        #expect(FileType(mode: S_IFSOCK) == .socket)
        #expect(FileType(mode: 0o160000) == .unknown, "no mode is a whiteout")
    }

    @Test func directoryEntryTypeAndModeAgreeForEveryRealType() {
        // getdents' DT_x is (S_IFx >> 12): both paths must land on the same type.
        for mode in [S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK] {
            #expect(FileType(directoryEntryType: UInt8(mode >> 12)) == FileType(mode: mode))
            #expect(FileType(mode: mode).directoryEntryType == UInt8(mode >> 12))
        }
    }
}

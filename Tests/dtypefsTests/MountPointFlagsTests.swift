import CLinux
import Testing
@testable import dtypefs

@Suite struct MountPointFlagsTests {
    @Test func readsTheMountTableAndAppliesLaterOptionsLast() {
        var flags = MountPointFlags(options: ["rw", "nosuid", "nodev", "relatime"])
        #expect(flags.bits == UInt32(CLINUX_MOUNT_NOSUID | CLINUX_MOUNT_NODEV | CLINUX_MOUNT_RELATIME))
        for option in ["nodiratime", "strictatime", "ro", "suid"] { flags.apply(option) }
        #expect(flags.bits == UInt32(CLINUX_MOUNT_NODEV | CLINUX_MOUNT_NODIRATIME | CLINUX_MOUNT_RDONLY))
        flags.apply("noatime")
        flags.apply("relatime")
        #expect(flags.bits & UInt32(CLINUX_MOUNT_NOATIME) == 0 && flags.bits & UInt32(CLINUX_MOUNT_RELATIME) != 0)
    }

    @Test func aMountTableLineIsParsedWithEscapedPaths() {
        let table = MountTable.parse("""
            36 35 98:0 / /mnt/my\\040share rw,noatime master:1 - cifs //srv/share rw,vers=3.1.1,noserverino
            37 36 0:52 / /mnt/my\\040share rw,nosuid,nodev,relatime shared:2 - fuse.dtypefs /mnt/my\\040share rw,user_id=0
            """)
        let top = table.topmost(at: "/mnt/my share")
        #expect(top?.fileSystemType == "fuse.dtypefs")
        #expect(top?.options == ["rw", "nosuid", "nodev", "relatime"])
        #expect(table.entries.first?.superOptions.contains("noserverino") == true)
        #expect(table.topmost(at: "/mnt") == nil)
    }
}

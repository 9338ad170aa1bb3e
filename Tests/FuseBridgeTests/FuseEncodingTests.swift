import CFuse
import FuseKit
import Glibc
import Testing
@testable import FuseBridge

@Suite struct FuseEncodingTests {
    @Test func setattrBitsBecomeChanges() {
        var status = stat()
        status.st_mode = 0o640
        status.st_uid = 1000
        status.st_size = 42
        status.st_mtim = timespec(tv_sec: 77, tv_nsec: 9)
        let changes = FuseEncoding.attributeChanges(status, toSet: FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_SIZE
                                                    | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)
        #expect(changes.mode == 0o640)
        #expect(changes.uid == 1000)
        #expect(changes.gid == nil)
        #expect(changes.size == 42)
        #expect(changes.accessTime == .now)
        #expect(changes.modificationTime == .set(seconds: 77, nanoseconds: 9))
    }

    @Test func nothingAskedMeansNothingChanged() {
        let changes = FuseEncoding.attributeChanges(stat(), toSet: 0)
        #expect(changes.mode == nil && changes.uid == nil && changes.gid == nil && changes.size == nil)
        #expect(changes.accessTime == nil && changes.modificationTime == nil)
    }

    @Test func entryParametersCarryNodeAttributesAndTimeouts() {
        var status = stat()
        status.st_ino = 1234
        status.st_mode = S_IFLNK | 0o777
        let entry = Entry(node: NodeID(99), attributes: Attributes(status), entryTimeout: 2, attrTimeout: 3)
        let parameters = FuseEncoding.entryParameters(entry)
        #expect(parameters.ino == 99)
        #expect(parameters.attr.st_ino == 1234)
        #expect(parameters.attr.st_mode == S_IFLNK | 0o777)
        #expect(parameters.entry_timeout == 2 && parameters.attr_timeout == 3)
    }

    @Test func recordLocksRoundTrip() {
        var description = flock()
        description.l_type = Int16(F_WRLCK)
        description.l_start = 10
        description.l_len = 20
        description.l_pid = 7
        #expect(FuseEncoding.recordLock(description) == RecordLock(type: Int16(F_WRLCK), start: 10, length: 20, pid: 7))
    }
}

@Suite struct MountConfigurationTests {
    @Test func optionsAlwaysCheckPermissionsInTheKernel() {
        var configuration = MountConfiguration(mountpoint: "/mnt", fsname: "/srv/share", allowOther: true)
        configuration.readOnly = true
        configuration.mountFlags = ["nosuid", "noatime"]
        #expect(configuration.libfuseOptions == "fsname=/srv/share,subtype=dtypefs,default_permissions,allow_other,ro,nosuid,noatime")
    }

    @Test func commasInTheSourceNameAreEscaped() {
        let configuration = MountConfiguration(mountpoint: "/mnt", fsname: "/srv/a,b\\c", allowOther: false)
        #expect(configuration.libfuseOptions.hasPrefix("fsname=/srv/a\\,b\\\\c,subtype=dtypefs,default_permissions,rw"))
    }
}

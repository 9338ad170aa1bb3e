import CLinux
import Glibc
import Testing
import LinuxKit
import TestSupport

/// The lstat that does not insist on a fresh atime (statx without STATX_ATIME) must answer what
/// lstat answers, field by field, for every kind of object, by name and by descriptor.
struct SystemCallStatusTests {
    func expectSame(_ ours: stat, _ theirs: stat, _ what: String) {
        #expect(ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino, "\(what): identity")
        #expect(ours.st_mode == theirs.st_mode && ours.st_nlink == theirs.st_nlink, "\(what): mode, links")
        #expect(ours.st_uid == theirs.st_uid && ours.st_gid == theirs.st_gid && ours.st_rdev == theirs.st_rdev, "\(what): owner, rdev")
        #expect(ours.st_size == theirs.st_size && ours.st_blocks == theirs.st_blocks && ours.st_blksize == theirs.st_blksize, "\(what): size")
        #expect(ours.st_mtim.tv_sec == theirs.st_mtim.tv_sec && ours.st_mtim.tv_nsec == theirs.st_mtim.tv_nsec, "\(what): mtime")
        #expect(ours.st_ctim.tv_sec == theirs.st_ctim.tv_sec && ours.st_ctim.tv_nsec == theirs.st_ctim.tv_nsec, "\(what): ctime")
        #expect(ours.st_atim.tv_sec == theirs.st_atim.tv_sec && ours.st_atim.tv_nsec == theirs.st_atim.tv_nsec, "\(what): atime")
    }

    @Test func answersAsLstatByNameAndByDescriptor() throws {
        let directory = TemporaryDirectory()
        directory.makeDirectory("dir")
        directory.makeFile("file", contents: "twelve bytes")
        directory.makeSymlink("link", to: "dir")
        #expect(mkfifo(directory.url("fifo"), 0o640) == 0)
        let parent = open(directory.path, O_RDONLY | O_DIRECTORY)
        defer { close(parent) }
        for name in ["dir", "file", "link", "fifo"] {
            var expected = stat()
            #expect(lstat(directory.url(name), &expected) == 0)
            expectSame(try SystemCall.status(in: parent, name), expected, name)
            var hot = stat()
            #expect(SystemCall.statusIfPresent(in: parent, name, into: &hot))
            expectSame(hot, expected, "\(name) (readdir path)")
            let descriptor = open(directory.url(name), clinux_O_PATH | O_NOFOLLOW)
            defer { close(descriptor) }
            expectSame(try SystemCall.status(of: descriptor), expected, "\(name) by descriptor")
        }
        #expect(throws: Errno.noEntry) { try SystemCall.status(in: parent, "missing") }
    }
}

import FuseKit
import Glibc
import Synchronization
import Testing
@testable import Passthrough
import LinuxKit
import TestSupport

/// The kernel sends RELEASE after close() returned: a lock taken right after the last close of
/// another open file must not fail on that file's lock while its RELEASE is still in flight.
@Suite struct LockReleaseTests {
    let caller = Caller(uid: 0, gid: 0, pid: getpid(), umask: 0o022)
    let whole = RecordLock(type: Int16(F_WRLCK), start: 0, length: 0, pid: 1)

    func twoOpens() throws -> (TemporaryDirectory, PassthroughFileSystem, NodeID, first: UInt64, second: UInt64) {
        let directory = TemporaryDirectory()
        directory.makeFile("f", contents: "x")
        let fs = try PassthroughFileSystem(source: directory.path, configuration: PassthroughConfiguration())
        let node = try fs.lookup(parent: .root, name: FileName("f")).node
        let first = try fs.open(node: node, flags: O_RDWR, caller: caller).handle
        let second = try fs.open(node: node, flags: O_RDWR, caller: caller).handle
        return (directory, fs, node, first, second)
    }

    @Test(arguments: ["ofd", "flock"])
    func aLockWaitsForTheReleaseInFlightOfAClosedFile(kind: String) throws {
        let (directory, fs, node, first, second) = try twoOpens()
        defer { fs.release(node: node, handle: second); _ = directory }
        // An OFD lock's owner is its open file (the bridge passes the file as owner).
        func lock(_ handle: UInt64) throws(Errno) {
            if kind == "ofd" {
                try fs.setLock(node: node, handle: handle, lock: whole, owner: handle, wait: nil)
            } else {
                try fs.flock(node: node, handle: handle, operation: LOCK_EX, wait: nil)
            }
        }
        try lock(first)
        #expect(throws: Errno(EAGAIN)) { try lock(second) }
        // The last close: FLUSH now, RELEASE 30 ms later, as the kernel's background queue sends it.
        try fs.flush(node: node, handle: first, lockOwner: 99)
        DetachedThread.start(stackSize: 64 * 1024) {
            usleep(30_000)
            fs.release(node: node, handle: first)
        }
        try lock(second)
    }

    @Test func aFileStillOpenAfterAFlushKeepsItsLock() throws {
        let (directory, fs, node, first, second) = try twoOpens()
        defer { fs.release(node: node, handle: first); fs.release(node: node, handle: second); _ = directory }
        try fs.setLock(node: node, handle: first, lock: whole, owner: first, wait: nil)
        // close() of one of two descriptors of the file: a FLUSH, no RELEASE.
        try fs.flush(node: node, handle: first, lockOwner: 99)
        #expect(throws: Errno(EAGAIN)) { try fs.setLock(node: node, handle: second, lock: whole, owner: second, wait: nil) }
    }
}

import CLinux
import FuseKit
import Glibc
import Synchronization
import Testing
@testable import Passthrough
import LinuxKit
import TestSupport

/// Lock waits end when the kernel interrupts them, and complete when the lock is released.
@Suite struct LockWaitTests {
    let caller = Caller(uid: 0, gid: 0, pid: getpid(), umask: 0o022)

    /// A file locked whole by another open file description (another client), and dtypefs's view.
    func lockedFile() throws -> (TemporaryDirectory, PassthroughFileSystem, NodeID, UInt64, holder: Int32) {
        let directory = TemporaryDirectory()
        directory.makeFile("f", contents: "x")
        let holder = open(directory.path + "/f", O_RDWR)
        var lock = Glibc.flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        #expect(clinux_fcntl_lock(holder, clinux_F_OFD_SETLK, &lock) == 0)
        let fs = try PassthroughFileSystem(source: directory.path, configuration: PassthroughConfiguration())
        let entry = try fs.lookup(parent: .root, name: FileName("f"))
        let opened = try fs.open(node: entry.node, flags: O_RDWR, caller: caller)
        return (directory, fs, entry.node, opened.handle, holder)
    }

    let whole = RecordLock(type: Int16(F_WRLCK), start: 0, length: 0, pid: 1)

    @Test func aConflictWithoutWaitingFailsAtOnce() throws {
        let (directory, fs, node, handle, holder) = try lockedFile()
        defer { close(holder); _ = directory }
        #expect(clinux_flock(holder, LOCK_EX | LOCK_NB) == 0)
        #expect(throws: Errno(EAGAIN)) { try fs.setLock(node: node, handle: handle, lock: whole, owner: 7, wait: nil) }
        #expect(throws: Errno(EWOULDBLOCK)) { try fs.flock(node: node, handle: handle, operation: LOCK_EX, wait: nil) }
    }

    @Test(arguments: ["posix", "flock"])
    func anInterruptedWaitEndsWithEINTR(kind: String) throws {
        let (directory, fs, node, handle, holder) = try lockedFile()
        defer { close(holder); _ = directory }
        if kind == "flock" { #expect(clinux_flock(holder, LOCK_EX | LOCK_NB) == 0) }
        let interruption = Interruption()
        let outcome = Outcome()
        DetachedThread.start(stackSize: 256 * 1024) {
            do throws(Errno) {
                if kind == "posix" {
                    try fs.setLock(node: node, handle: handle, lock: whole, owner: 7, wait: interruption)
                } else {
                    try fs.flock(node: node, handle: handle, operation: LOCK_EX, wait: interruption)
                }
                outcome.finish(nil)
            } catch {
                outcome.finish(error)
            }
        }
        usleep(200_000)
        #expect(outcome.result == nil, "the wait ended while the lock was held")
        interruption.request()
        var waited = 0
        while outcome.result == nil && waited < 5_000 {
            usleep(10_000)
            waited += 10
        }
        #expect(outcome.result == .some(Errno(EINTR)))
    }

    /// How a wait on another thread ended: nil while it runs, then .some(nil) or .some(errno).
    final class Outcome: Sendable {
        private let state = Mutex<Errno??>(nil)
        var result: Errno?? { state.withLock { $0 } }
        func finish(_ error: Errno?) { state.withLock { $0 = .some(error) } }
    }

    @Test func aWaitCompletesOnceTheHolderUnlocks() throws {
        let (directory, fs, node, handle, holder) = try lockedFile()
        defer { _ = directory }
        DetachedThread.start(stackSize: 64 * 1024) {
            usleep(200_000)
            close(holder)
        }
        try fs.setLock(node: node, handle: handle, lock: whole, owner: 7, wait: Interruption())
    }

    @Test func anInterruptionRequestedBeforeTheWaitEndsItAtOnce() throws {
        let (directory, fs, node, handle, holder) = try lockedFile()
        defer { close(holder); _ = directory }
        let interruption = Interruption()
        interruption.request()
        #expect(throws: Errno(EINTR)) { try fs.setLock(node: node, handle: handle, lock: whole, owner: 7, wait: interruption) }
    }
}

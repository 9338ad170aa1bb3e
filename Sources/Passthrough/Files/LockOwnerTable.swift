import Glibc
import FuseKit
import Synchronization
import LinuxKit

/// POSIX record locks belong to a lock owner (a process), not to an open file: two opens by one
/// process share its locks, and any close by it drops them all. Each owner of a node therefore gets
/// its own backing open file description, and its locks are OFD locks on that: they merge and split
/// like POSIX locks, conflict between owners, and reach the backing file, so other clients of the
/// share see them.
///
/// An OFD lock's owner is the open file itself: the kernel never sends its unlock when that file is
/// closed (it keeps no record of the locks it forwarded), so whatever owners are still registered
/// through an open file when it is released go with it. A process's POSIX owner was already dropped
/// by the flush of that close.
///
/// That RELEASE comes asynchronously, after close() returned: a program that closes its last
/// descriptor and then locks through another open file could find the old lock still there. A
/// non-blocking lock that conflicts therefore waits (briefly) for the RELEASE of any open file of
/// the same node that was flushed (closed once) lately, then tries again.
final class LockOwnerTable: Sendable {
    private struct Key: Hashable {
        var node: UInt64
        var owner: UInt64
    }

    private struct Owner {
        var descriptor: Int32
        /// The open file (its backing descriptor) the owner was first seen through.
        var openFile: Int32
        var pid: Int32
        var holdsLocks: Bool
    }

    private let state = Mutex<[Key: Owner]>([:])
    /// Open files flushed lately and not released yet: node and when.
    private let closing = WaitableState<[Int32: (node: UInt64, at: Int64)]>([:])
    /// How long a conflicting lock waits for a RELEASE in flight; also how long a flush counts.
    static let releaseGrace: Int64 = 200_000_000

    /// The owner's descriptor for the file behind `openFile`, opened on first use.
    func descriptor(node: NodeID, owner: UInt64, openFile: Int32) throws(Errno) -> Int32 {
        let key = Key(node: node.rawValue, owner: owner)
        if let existing = state.withLock({ $0[key]?.descriptor }) { return existing }
        // Reopen exactly this inode; read-write so both lock types work, else as the file was opened.
        let reopened = try SystemCall.withProcPath(of: openFile) { (path) throws(Errno) -> Int32 in
            do throws(Errno) {
                return try SystemCall.open(path: path, flags: O_RDWR | O_NONBLOCK)
            } catch {
                let mode = fcntl(openFile, F_GETFL) & O_ACCMODE
                return try SystemCall.open(path: path, flags: mode | O_NONBLOCK)
            }
        }
        let winner = state.withLock { table -> Int32 in
            if let existing = table[key] { return existing.descriptor }
            table[key] = Owner(descriptor: reopened, openFile: openFile, pid: 0, holdsLocks: false)
            return reopened
        }
        if winner != reopened { SystemCall.close(reopened) }
        return winner
    }

    /// Remembers who holds locks, so F_GETLK can name a conflicting local process.
    func noteLocked(node: NodeID, owner: UInt64, pid: Int32, holdsLocks: Bool) {
        state.withLock { table in
            let key = Key(node: node.rawValue, owner: owner)
            table[key]?.pid = pid
            table[key]?.holdsLocks = holdsLocks
        }
    }

    /// The pid of another local owner holding locks on `node`, if there is one.
    func otherHolder(node: NodeID, excluding owner: UInt64) -> Int32? {
        state.withLock { table in
            table.first { $0.key.node == node.rawValue && $0.key.owner != owner && $0.value.holdsLocks }?.value.pid
        }
    }

    /// The owner closed the file: POSIX drops all its locks on it. Closing our descriptor does that.
    func release(node: NodeID, owner: UInt64) {
        let descriptor = state.withLock { $0.removeValue(forKey: Key(node: node.rawValue, owner: owner))?.descriptor }
        if let descriptor { SystemCall.close(descriptor) }
    }

    /// The open file `openFile` is released: the owners first seen through it (OFD locks, whose
    /// owner it is) lose their locks (xfstests generic/478 waited for ever on one left behind).
    func releaseAll(openFile: Int32) {
        let descriptors = state.withLock { table -> [Int32] in
            let gone = table.filter { $0.value.openFile == openFile }
            for key in gone.keys { table[key] = nil }
            return gone.values.map(\.descriptor)
        }
        descriptors.forEach(SystemCall.close)
    }

    /// Closes `openFile` (its flock locks go with it) and lets a lock waiting for its RELEASE try
    /// again: both under the lock the waiters sleep on, so a retry cannot meet the lock still held,
    /// and a new open file given the same number cannot have its flush forgotten.
    func close(openFile: Int32) {
        closing.change { table in
            SystemCall.close(openFile)
            table[openFile] = nil
        }
    }

    /// `openFile` of `node` was flushed: a close, possibly its last. No waiter is woken: a new
    /// entry can only make them wait longer.
    func noteFlushed(openFile: Int32, node: NodeID) {
        let now = SystemCall.monotonicNanoseconds()
        closing.withLock { table in
            table[openFile] = (node.rawValue, now)
            table = table.filter { now - $0.value.at < Self.releaseGrace }
        }
    }

    /// After a lock conflict through `openFile`: waits until no other open file of `node` flushed
    /// lately is still unreleased (at most `releaseGrace`). Whether there was one: worth a retry.
    func awaitReleasesInFlight(node: NodeID, besides openFile: Int32) -> Bool {
        let start = SystemCall.monotonicNanoseconds()
        func pending(_ table: borrowing [Int32: (node: UInt64, at: Int64)]) -> Bool {
            table.contains { $0.key != openFile && $0.value.node == node.rawValue && start - $0.value.at < Self.releaseGrace }
        }
        guard closing.withLock({ pending($0) }) else { return false }
        closing.wait(until: { !pending($0) }, deadline: start + Self.releaseGrace, then: { _ in })
        return true
    }
}

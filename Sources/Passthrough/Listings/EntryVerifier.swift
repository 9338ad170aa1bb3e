import Glibc
import FuseKit
import Synchronization
import LinuxKit

/// lstats the entries of a getdents64 batch. On a network share each lstat of a suspicious entry
/// is a round trip, so a batch's lstats run concurrently on a small pool of threads (as do other
/// per-entry reads of a listing: `spread`).
final class EntryVerifier: Sendable {
    /// Threads besides the caller; 0 keeps lstats sequential.
    private let helpers: Int
    private let ownPool = Mutex<WorkerPool?>(nil)
    private let stopped = Atomic(false)

    /// Calls left below this many stay on the caller: once calls prove slow (a round trip each), a
    /// hand-off (tens of µs) hides more than it costs even for two.
    private static let minimumParallelBatch = 2

    /// `verifyThreads` counts the calling thread: 1 keeps lstats sequential.
    init(verifyThreads: Int) {
        helpers = max(1, verifyThreads) - 1
    }

    /// The pool, started on first use, never at mount time: a daemon that detaches forks, and only
    /// the forking thread lives on in the child; and threads started before the signal mask is set
    /// would take SIGUSR1 with its default action (exit) instead of the statistics thread.
    private var pool: WorkerPool? {
        guard helpers > 0 else { return nil }
        return ownPool.withLock { pool in
            if pool == nil, !stopped.load(ordering: .relaxed) { pool = WorkerPool(threads: helpers) }
            return pool
        }
    }

    /// Ends the pool's threads (unmount); later batches are lstat'ed by the caller alone.
    func stop() {
        ownPool.withLock { pool in
            stopped.store(true, ordering: .relaxed)
            pool?.stop()
            pool = nil
        }
    }

    /// lstats up to `count` records from the stream's current one (see `spread`).
    func verify(_ stream: DirectoryStream, count: Int) -> DirectoryStream.Verification {
        let records = stream.records
        let start = stream.index
        let end = min(records.count, start + max(1, count))
        var statuses = [Glibc.stat](repeating: Glibc.stat(), count: end - start)
        var found = [Bool](repeating: false, count: end - start)
        statuses.withUnsafeMutableBufferPointer { statusBuffer in
            found.withUnsafeMutableBufferPointer { foundBuffer in
                let statusBase = statusBuffer.baseAddress!, foundBase = foundBuffer.baseAddress!
                spread(end - start) { offset in
                    let record = records[start + offset]
                    if record.isDotOrDotDot { return }
                    foundBase[offset] = SystemCall.statusIfPresent(in: stream.descriptor, stream.name(of: record), into: &statusBase[offset])
                }
            }
        }
        return DirectoryStream.Verification(start: start, statuses: statuses, found: found)
    }

    /// Runs `work` for every index below `count`. They start one after another; only when they
    /// prove slow (a network round trip each, not a cached inode) does the rest go to the pool: on a
    /// fast backing, waking threads would cost more than the calls.
    func spread(_ count: Int, _ work: (Int) -> Void) {
        var done = 0
        let began = SystemCall.monotonicNanoseconds()
        while done < count {
            work(done)
            done += 1
            if helpers > 0, count - done >= Self.minimumParallelBatch,
               SystemCall.monotonicNanoseconds() - began > Int64(done) * Self.slowCallNanoseconds {
                break
            }
        }
        if done < count, let pool {
            pool.run(range: done..<count, work)
        } else {
            while done < count {
                work(done)
                done += 1
            }
        }
    }

    /// Calls that take longer than this each on average are not served from a cache, and a thread
    /// hand-off (tens of µs) is worth it. A FUSE backing with no latency of its own answers in less
    /// (a round trip between CPUs): spreading those only makes threads fight for the CPUs.
    private static let slowCallNanoseconds: Int64 = 100_000
}

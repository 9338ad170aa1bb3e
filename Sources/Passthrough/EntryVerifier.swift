#if canImport(Glibc)
import Glibc
#endif
import FuseKit

/// lstats the entries of a getdents64 batch. On a network share each lstat of a suspicious entry
/// is a round trip, so a batch's lstats run concurrently on a small pool of threads.
final class EntryVerifier: Sendable {
    private let pool: WorkerPool?

    /// Below this many entries the hand-off costs more than it hides.
    private static let minimumParallelBatch = 8

    /// `concurrency` counts the calling thread: 1 keeps lstats sequential. The shared pool is only
    /// started when its size is the one asked for.
    init(concurrency: Int) {
        switch max(1, concurrency) {
        case 1: pool = nil
        case WorkerPool.sharedThreads + 1: pool = WorkerPool.shared
        case let count: pool = WorkerPool(threads: count - 1)
        }
    }

    /// lstats up to `count` records from the stream's current one. They start one after another; only
    /// when they prove slow (a network round trip each, not a cached inode) does the rest of the
    /// batch go to the pool: on a fast backing, waking threads would cost more than the lstats.
    func verify(_ stream: DirectoryStream, count: Int) -> DirectoryStream.Verification {
        let records = stream.records
        let start = stream.index
        let end = min(records.count, start + max(1, count))
        var statuses = [Glibc.stat](repeating: Glibc.stat(), count: end - start)
        var found = [Bool](repeating: false, count: end - start)
        statuses.withUnsafeMutableBufferPointer { statusBuffer in
            found.withUnsafeMutableBufferPointer { foundBuffer in
                let statusBase = statusBuffer.baseAddress!, foundBase = foundBuffer.baseAddress!
                let work: (Int) -> Void = { offset in
                    let record = records[start + offset]
                    if record.isDotOrDotDot { return }
                    foundBase[offset] = SystemCall.statusIfPresent(in: stream.descriptor, stream.name(of: record), into: &statusBase[offset])
                }
                let total = end - start
                var done = 0
                let began = SystemCall.monotonicNanoseconds()
                while done < total {
                    work(done)
                    done += 1
                    if pool != nil, total - done >= Self.minimumParallelBatch, SystemCall.monotonicNanoseconds() - began > Self.slowBatchNanoseconds {
                        break
                    }
                }
                if let pool, done < total {
                    pool.run(range: done..<total, work)
                }
            }
        }
        return DirectoryStream.Verification(start: start, statuses: statuses, found: found)
    }

    /// Sequential lstats that take longer than this in total are not being served from a cache.
    private static let slowBatchNanoseconds: Int64 = 150_000
}

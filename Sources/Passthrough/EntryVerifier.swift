#if canImport(Glibc)
import Glibc
#endif
import FuseKit

/// lstats the entries of a getdents64 batch. On a network share each lstat of a suspicious entry
/// is a round trip, so a batch's lstats run concurrently on a small pool of threads.
final class EntryVerifier: Sendable {
    let concurrency: Int
    private let pool: WorkerPool?

    /// Below this many entries the hand-off costs more than it hides.
    private static let minimumParallelBatch = 8

    init(concurrency: Int) {
        self.concurrency = max(1, concurrency)
        pool = self.concurrency > 1 ? WorkerPool.shared : nil
    }

    /// lstats up to `count` records from the stream's current one.
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
                if let pool, end - start >= Self.minimumParallelBatch {
                    pool.run(range: 0..<(end - start), work)
                } else {
                    for offset in 0..<(end - start) { work(offset) }
                }
            }
        }
        return DirectoryStream.Verification(start: start, statuses: statuses, found: found)
    }
}

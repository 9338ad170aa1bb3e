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

    func verify(_ stream: DirectoryStream) -> DirectoryStream.Verification {
        let records = stream.records
        let start = stream.index
        var statuses = [Glibc.stat](repeating: Glibc.stat(), count: records.count)
        var found = [Bool](repeating: false, count: records.count)
        let pending = records.count - start
        statuses.withUnsafeMutableBufferPointer { statusBuffer in
            found.withUnsafeMutableBufferPointer { foundBuffer in
                let statusBase = statusBuffer.baseAddress!, foundBase = foundBuffer.baseAddress!
                let work: (Int) -> Void = { index in
                    let record = records[index]
                    if record.isDotOrDotDot { return }
                    foundBase[index] = SystemCall.statusIfPresent(in: stream.descriptor, stream.name(of: record), into: &statusBase[index])
                }
                if let pool, pending >= Self.minimumParallelBatch {
                    pool.run(range: start..<records.count, work)
                } else {
                    for index in start..<records.count { work(index) }
                }
            }
        }
        return DirectoryStream.Verification(statuses: statuses, found: found)
    }
}

import Glibc
import FuseKit

/// A fixed set of threads that help run the indices of a range: blocking syscalls (lstat on a
/// network share) overlap instead of queueing. The caller works too and returns when all indices
/// are done. Several callers may share the pool; their jobs are served in order.
final class WorkerPool: @unchecked Sendable {
    /// One pool per process, started on first use: 15 helpers plus the calling thread overlap 16
    /// round trips, enough to hide network latency without flooding a server.
    static let shared = WorkerPool(threads: sharedThreads)
    static let sharedThreads = 15
    private final class Job {
        let work: (Int) -> Void
        var next: Int
        let end: Int
        var finished = 0
        let count: Int

        init(range: Range<Int>, work: @escaping (Int) -> Void) {
            self.work = work
            next = range.lowerBound
            end = range.upperBound
            count = range.count
        }
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let workAvailable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let jobFinished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [Job] = []

    init(threads: Int) {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workAvailable, nil)
        pthread_cond_init(jobFinished, nil)
        for _ in 0..<threads {
            // Each thread keeps the pool alive: the threads never exit. Small stacks: they only lstat.
            DetachedThread.start(stackSize: 64 * 1024) { self.serve() }
        }
    }

    /// Runs `work` for every index of `range`, on the pool and the calling thread.
    func run(range: Range<Int>, _ work: (Int) -> Void) {
        guard !range.isEmpty else { return }
        withoutActuallyEscaping(work) { work in
            let job = Job(range: range, work: work)
            pthread_mutex_lock(mutex)
            jobs.append(job)
            pthread_cond_broadcast(workAvailable)
            while let index = claim(from: job) {
                pthread_mutex_unlock(mutex)
                job.work(index)
                pthread_mutex_lock(mutex)
                job.finished += 1
            }
            while job.finished < job.count { pthread_cond_wait(jobFinished, mutex) }
            pthread_mutex_unlock(mutex)
        }
    }

    /// Takes the next index of `job` (lock held); removes a job once all its indices are taken.
    private func claim(from job: Job) -> Int? {
        guard job.next < job.end else { return nil }
        let index = job.next
        job.next += 1
        if job.next == job.end, let position = jobs.firstIndex(where: { $0 === job }) { jobs.remove(at: position) }
        return index
    }

    private func serve() {
        pthread_mutex_lock(mutex)
        while true {
            guard let job = jobs.first else {
                pthread_cond_wait(workAvailable, mutex)
                continue
            }
            guard let index = claim(from: job) else { continue }
            pthread_mutex_unlock(mutex)
            job.work(index)
            pthread_mutex_lock(mutex)
            job.finished += 1
            if job.finished == job.count { pthread_cond_broadcast(jobFinished) }
        }
    }
}

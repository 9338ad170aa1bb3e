import FuseKit
import LinuxKit

/// A fixed set of threads that help run the indices of a range: blocking syscalls (lstat on a
/// network share) overlap instead of queueing. The caller works too and returns when all indices
/// are done. Several callers may share the pool; their jobs are served in order. `stop` ends the
/// threads (at unmount); a stopped pool runs every job on the caller alone.
final class WorkerPool: Sendable {
    private final class Job: @unchecked Sendable {
        /// Cleared by `run` once every index is done: a worker may still hold the job then, and
        /// the closure must not outlive `run` (it does not escape).
        var work: ((Int) -> Void)?
        // Guarded by the pool's state lock.
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

        var isDone: Bool { finished == count }
    }

    private struct State {
        var jobs: [Job] = []
        var stopping = false
        var threads = 0
    }

    private let state = WaitableState(State())

    init(threads: Int) {
        state.withLock { $0.threads = threads }
        for _ in 0..<threads {
            // Small stacks: they only lstat.
            DetachedThread.start(stackSize: 64 * 1024) { [self] in serve() }
        }
    }

    /// Threads alive: `threads` until `stop`, then soon 0.
    var threads: Int { state.withLock { $0.threads } }

    /// Ends the threads once they finish the index in hand.
    func stop() {
        state.change { $0.stopping = true }
    }

    /// Runs `work` for every index of `range`, on the pool and the calling thread.
    func run(range: Range<Int>, _ work: (Int) -> Void) {
        guard !range.isEmpty else { return }
        withoutActuallyEscaping(work) { work in
            let job = Job(range: range, work: work)
            let helped = state.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.jobs.append(job)
                return true
            }
            if helped { state.wake() }
            while let index = state.withLock({ Self.claim(from: job, in: &$0) }) {
                work(index)
                state.withLock { _ in job.finished += 1 }
            }
            state.wait(until: { _ in job.isDone }, then: { _ in job.work = nil })
        }
    }

    /// Takes the next index of `job`; removes a job once all its indices are taken.
    private static func claim(from job: Job, in state: inout State) -> Int? {
        guard job.next < job.end else { return nil }
        let index = job.next
        job.next += 1
        if job.next == job.end, let position = state.jobs.firstIndex(where: { $0 === job }) { state.jobs.remove(at: position) }
        return index
    }

    private func serve() {
        while true {
            let claimed = state.wait(until: { !$0.jobs.isEmpty || $0.stopping }) { state -> (Job, Int)? in
                guard !state.stopping, let job = state.jobs.first, let index = Self.claim(from: job, in: &state) else { return nil }
                return (job, index)
            }
            guard let (job, index) = claimed else {
                let stopped = state.change { state -> Bool in
                    if state.stopping { state.threads -= 1 }
                    return state.stopping
                }
                if stopped { return }
                continue
            }
            job.work?(index)
            // Only the job's last index wakes anyone: its caller waits for it.
            let done = state.withLock { _ -> Bool in
                job.finished += 1
                return job.isDone
            }
            if done { state.wake() }
        }
    }
}

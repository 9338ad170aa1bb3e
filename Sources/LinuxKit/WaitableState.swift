import Glibc

/// State that threads sleep on until it changes: the one wrapper of a pthread mutex and condition.
/// The locking rule of the project:
/// - `Mutex` / `Atomic` (Synchronization) for state nobody waits on;
/// - `WaitableState` where a thread sleeps until the state says go (a queue has work, a flight
///   landed, a pool is stopping), with an optional deadline on CLOCK_MONOTONIC.
/// `change` wakes every sleeper (each re-checks its own condition); where all sleepers wait for
/// the same thing (a queue's readers), `withLock` and then `wake(count)` wakes only as many as
/// there is work for: a broadcast per event would wake a whole pool for one job.
public final class WaitableState<State: ~Copyable>: @unchecked Sendable {
    private var state: State
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init(_ state: consuming State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(changed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    public func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Like `withLock`, then wakes every sleeper: for changes a sleeper may be waiting for.
    public func change<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(changed)
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Wakes up to `count` sleepers (every one if `count` is nil).
    public func wake(_ count: Int? = nil) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let count else {
            pthread_cond_broadcast(changed)
            return
        }
        for _ in 0..<max(0, count) { pthread_cond_signal(changed) }
    }

    /// Sleeps until `ready` holds, then runs `body` under the same lock. With `deadline` (a
    /// CLOCK_MONOTONIC time in nanoseconds) it stops sleeping then; `body` runs either way and
    /// can ask `ready` again.
    public func wait<R>(until ready: (borrowing State) -> Bool, deadline: Int64? = nil, then body: (inout State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(state) {
            if let deadline {
                var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                if pthread_cond_timedwait(changed, mutex, &time) == ETIMEDOUT { break }
            } else {
                pthread_cond_wait(changed, mutex)
            }
        }
        return body(&state)
    }
}

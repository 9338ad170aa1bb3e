import Synchronization

/// The kernel's word that a waiting request is no longer wanted: its caller got a signal (FUSE
/// INTERRUPT). A request that may wait for ever (a lock wait) must end when this comes, or the
/// caller hangs unkillably; `wake` is how the waiter is reached while it blocks.
public final class Interruption: Sendable {
    private struct State {
        var requested = false
        var wake: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Marks the request interrupted and wakes the waiter, if one is set.
    public func request() {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            state.requested = true
            return state.wake
        }
        wake?()
    }

    /// Sets (or, with nil, clears) how to wake the waiter; called at once if already requested.
    public func onRequest(_ wake: (@Sendable () -> Void)?) {
        let now = state.withLock { state -> (@Sendable () -> Void)? in
            state.wake = wake
            return state.requested ? wake : nil
        }
        now?()
    }
}

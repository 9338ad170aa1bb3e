import Glibc
import FuseKit
import Synchronization
import LinuxKit

/// Listings in progress between two of the kernel's READDIR requests. Directories have no open
/// handles (the kernel sends no OPENDIR or RELEASEDIR: a round trip per directory saved), so a
/// request names only the directory and an offset. The stream that served one request is parked
/// here under (node, position) and taken by the request that continues there: a long listing keeps
/// one backing descriptor instead of reopening and seeking (on a share, a reopen restarts the
/// server's search). A stream that reached the end parks as a marker without a descriptor, so the
/// kernel's closing request at that offset is answered without touching the backing filesystem.
///
/// Bounded by count and age: an abandoned listing (`ls | head`) must not hold a descriptor, on a
/// share a handle that can keep others from deleting the directory, for more than a few seconds.
final class DirectoryStreamCache: Sendable {
    enum Parked {
        case stream(DirectoryStream)
        case end
    }

    private struct Slot {
        let node: NodeID
        let position: Int64
        /// nil: the listing ended at `position`.
        let stream: DirectoryStream?
        let parkedAt: Int64
    }

    private struct State: ~Copyable {
        var slots: [Slot] = []
        var sweepScheduled = false
        var stopping = false
    }

    /// The sweeper sleeps on it until the oldest slot expires or `stop` is called.
    private let state = WaitableState(State())
    let capacity: Int
    let maximumAge: Int64

    /// `maximumAge` in nanoseconds.
    init(capacity: Int = 32, maximumAge: Int64 = 2_000_000_000) {
        self.capacity = max(1, capacity)
        self.maximumAge = maximumAge
    }

    /// The listing of `node` parked at `position`, removed from the cache (the caller owns it now).
    /// Offset 0 starts a new listing and never continues an old one.
    func take(node: NodeID, position: Int64) -> Parked? {
        guard position != 0 else { return nil }
        let now = SystemCall.monotonicNanoseconds()
        // Dropped streams are handed out of the lock and closed there (close may be a round trip).
        let (found, _) = state.withLock { state -> (Slot?, [Slot]) in
            let expired = Self.removeExpired(from: &state.slots, now: now, maximumAge: maximumAge)
            guard let index = state.slots.firstIndex(where: { $0.node == node && $0.position == position }) else {
                return (nil, expired)
            }
            return (state.slots.remove(at: index), expired)
        }
        guard let found else { return nil }
        return found.stream.map { .stream($0) } ?? .end
    }

    /// Parks `stream` after a request: as a marker when it reached the end, else with its descriptor.
    /// A listing that ended where it began (an empty directory at offset 0) needs no marker.
    func park(_ stream: DirectoryStream) {
        guard !(stream.isExhausted && stream.position == 0) else { return }
        let slot = Slot(node: stream.node, position: stream.position, stream: stream.isExhausted ? nil : stream,
                        parkedAt: SystemCall.monotonicNanoseconds())
        // Dropped slots (the evicted one, or this one once stopped) close outside the lock.
        let (_, startSweep) = state.withLock { state -> ([Slot], Bool) in
            guard !state.stopping else { return ([slot], false) }
            var evicted: [Slot] = []
            if state.slots.count >= capacity { evicted.append(state.slots.removeFirst()) }
            state.slots.append(slot)
            let startSweep = !state.sweepScheduled
            state.sweepScheduled = true
            return (evicted, startSweep)
        }
        if startSweep { scheduleSweep() }
    }

    /// Parked listings (streams and end markers), for tests.
    var count: Int { state.withLock { $0.slots.count } }

    /// Closes every parked stream and ends the sweeper (unmount); nothing is parked afterwards.
    func stop() {
        let dropped = state.change { state -> [Slot] in
            state.stopping = true
            defer { state.slots.removeAll() }
            return state.slots
        }
        _ = dropped  // closed here, outside the lock
    }

    /// Closes what expired, and keeps sweeping while anything is parked: an idle mount holds
    /// nothing, not even the sweeping thread. A thread of our own, not Dispatch's pool, whose
    /// workers try to change their scheduling priority and log "Failed to set thread priority"
    /// where that is not allowed.
    private func scheduleSweep() {
        let maximumAge = self.maximumAge
        DetachedThread.start(stackSize: 64 * 1024) { [weak self] in
            var deadline = SystemCall.monotonicNanoseconds() + maximumAge
            while let self {
                let (_, again) = self.state.wait(until: { $0.stopping }, deadline: deadline) { state -> ([Slot], Bool) in
                    let now = SystemCall.monotonicNanoseconds()
                    let expired = Self.removeExpired(from: &state.slots, now: now, maximumAge: maximumAge)
                    state.sweepScheduled = !state.slots.isEmpty && !state.stopping
                    deadline = (state.slots.first?.parkedAt ?? now) + maximumAge
                    return (expired, state.sweepScheduled)
                }
                if !again { return }
            }
        }
    }

    private static func removeExpired(from slots: inout [Slot], now: Int64, maximumAge: Int64) -> [Slot] {
        guard let first = slots.first, now - first.parkedAt >= maximumAge else { return [] }
        // Slots are in parking order, so the expired ones are a prefix.
        let end = slots.firstIndex { now - $0.parkedAt < maximumAge } ?? slots.count
        let expired = Array(slots[..<end])
        slots.removeFirst(end)
        return expired
    }
}

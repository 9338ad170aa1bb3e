#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FuseKit
import Synchronization

/// Reads listings ahead of a tree walk. A walker (os.walk, find, du, ls -R) lists a directory, then
/// each of its subdirectories, one after another: on a share every listing and every lstat that
/// verifies it is a round trip the walker waits for. When a walk is under way, the subdirectories a
/// listing announces are read whole and verified in the background, a few at a time, so the
/// walker's request for one is answered from memory.
///
/// Freshness: a listing read ahead is served only while it is younger than `maximumAge` (the
/// attribute timeout, so a walk sees changes made behind the mount no later than the kernel's
/// caches would let it), and only if nothing was changed through the mount since it was read
/// (`invalidate`), so a program always lists what it just created, renamed or removed.
///
/// Bounded: at most `entryCapacity` entries kept in listings read ahead (each without a descriptor;
/// about 200 bytes an entry), `queueLimit` waiting to be read, `concurrency` being read.
///
/// While a walker follows links, the listings also read their links' targets (`linkTargets`).
final class ListingPrefetcher: Sendable {
    /// Reads one directory's listing whole and verified, with its links' targets if asked; nil when
    /// it cannot or should not be kept.
    typealias Load = @Sendable (NodeID, _ readLinks: Bool) -> DirectoryStream?

    private struct Ready {
        let stream: DirectoryStream
        /// Its place in `readyOrder`.
        let sequence: UInt64
    }

    /// A listing being read: a request for it waits for it rather than reading it a second time.
    private final class Flight: Sendable {
        let finished = DispatchSemaphore(value: 0)
    }

    private struct State: ~Copyable {
        var ready: [NodeID: Ready] = [:]
        /// Listings in the order they were read, oldest from `readyHead` on; an element whose
        /// sequence no longer matches `ready` was taken meanwhile (removing it there would cost a scan).
        var readyOrder: [(node: NodeID, sequence: UInt64)] = []
        var readyHead = 0
        var nextSequence: UInt64 = 0
        var readyEntries = 0
        var reading: [NodeID: Flight] = [:]
        /// Next to read, soonest first.
        var pending: [NodeID] = []
        var readersStarted = false
        /// Subdirectories listings announced lately, and when: listing one of them means a walk.
        var announced: [NodeID: Int64] = [:]
        var announcedOrder: [NodeID] = []
    }

    private let state = Mutex(State())
    /// Counts queued listings; readers sleep on it (a taken or dropped one wakes a reader for nothing).
    private let queued = DispatchSemaphore(value: 0)
    private let epoch = Atomic<UInt64>(0)
    private let load: Load
    private let statistics: ListingStatistics
    let entryCapacity: Int
    let queueLimit: Int
    let concurrency: Int
    let maximumAge: Int64
    /// Targets read with the listings, for the READLINKs of a walker that follows links.
    let linkTargets: LinkTargetCache

    /// How many announced subdirectories are remembered (a node ID and a time each).
    private static let announcedLimit = 4096

    /// `maximumAge` in nanoseconds.
    init(entryCapacity: Int = 4_096, queueLimit: Int = 64, concurrency: Int = 4, maximumAge: Int64,
         statistics: ListingStatistics, load: @escaping Load) {
        self.statistics = statistics
        self.entryCapacity = max(1, entryCapacity)
        self.queueLimit = max(1, queueLimit)
        self.concurrency = max(1, concurrency)
        self.maximumAge = maximumAge
        linkTargets = LinkTargetCache(capacity: self.entryCapacity, followWindow: 2 * maximumAge)
        self.load = load
    }

    /// Something changed through the mount: every listing read so far may be out of date.
    func invalidate() {
        epoch.add(1, ordering: .sequentiallyConsistent)
    }

    /// The listing of `node` read ahead, if still fresh; removed (the caller owns it now). One being
    /// read is waited for. A miss also drops `node` from the queue: the caller lists it itself.
    func take(_ node: NodeID) -> DirectoryStream? {
        var found = takeReady(node)
        if case let .reading(flight) = found {
            flight.finished.wait()
            flight.finished.signal()  // a latch: the next waiter passes too
            found = takeReady(node)
        }
        guard case let .ready(listing) = found, isFresh(listing.readAhead) else { return nil }
        statistics.recordReadAhead(used: true)
        return listing
    }

    private enum Lookup {
        case ready(DirectoryStream)
        case reading(Flight)
        case none
    }

    /// Whether what a listing read ahead holds may still be served: also asked when one parked
    /// after a partial reply is continued, possibly by another listing of the same directory, and
    /// for a link target read with it.
    func isFresh(_ stamp: DirectoryStream.ReadAheadStamp?) -> Bool {
        guard let stamp else { return false }
        return stamp.epoch == epoch.load(ordering: .sequentiallyConsistent)
            && SystemCall.monotonicNanoseconds() - stamp.readAt < maximumAge
    }

    /// The target of the link `node` read with a listing, if it is kept and still fresh. A miss
    /// means a READLINK reads the backing: links are being followed, so listings read them too.
    func linkTarget(of node: NodeID) -> [UInt8]? {
        if let (target, stamp) = linkTargets.take(node), isFresh(stamp) {
            statistics.recordLinkTarget(used: true)
            return target
        }
        linkTargets.followed()
        return nil
    }

    /// `stream`, a listing read ahead, listed the link `node`: its target is kept for a READLINK.
    func keepLinkTarget(of node: NodeID, from stream: DirectoryStream) {
        guard let target = stream.currentLinkTarget, let stamp = stream.readAhead else { return }
        linkTargets.keep(target, for: node, stamp: stamp)
        statistics.recordLinkTarget(used: false)
    }

    /// Removes `node`'s listing read ahead (fresh or not: the caller judges), or names the read
    /// under way; a miss drops `node` from the queue.
    private func takeReady(_ node: NodeID) -> Lookup {
        state.withLock { state -> Lookup in
            guard let ready = state.ready.removeValue(forKey: node) else {
                if let flight = state.reading[node] { return .reading(flight) }
                if let index = state.pending.firstIndex(of: node) { state.pending.remove(at: index) }
                return .none
            }
            state.readyEntries -= ready.stream.records.count
            return .ready(ready.stream)
        }
    }

    /// `directory` is being listed and announced `subdirectories`. If `directory` was itself
    /// announced lately (or read ahead), a walk is under way: its subdirectories are read ahead.
    func listed(_ directory: NodeID, subdirectories: [NodeID], wasReadAhead: Bool) {
        guard !subdirectories.isEmpty else { return }
        let now = SystemCall.monotonicNanoseconds()
        let (queued, startReaders) = state.withLock { state -> (Int, Bool) in
            let walking = wasReadAhead || state.announced[directory].map { now - $0 < 2 * maximumAge } == true
            for subdirectory in subdirectories where state.announced.updateValue(now, forKey: subdirectory) == nil {
                state.announcedOrder.append(subdirectory)
            }
            if state.announcedOrder.count > Self.announcedLimit {
                let excess = state.announcedOrder.count - Self.announcedLimit / 2
                for old in state.announcedOrder[..<excess] { state.announced[old] = nil }
                state.announcedOrder.removeFirst(excess)
            }
            guard walking else { return (0, false) }
            // Depth-first walkers list the newest announcements first, in listing order.
            let candidates = subdirectories.filter { state.ready[$0] == nil && state.reading[$0] == nil && !state.pending.contains($0) }
            let fresh = Array(candidates.prefix(queueLimit))
            state.pending.insert(contentsOf: fresh, at: 0)
            if state.pending.count > queueLimit { state.pending.removeLast(state.pending.count - queueLimit) }
            let startReaders = !state.readersStarted
            state.readersStarted = true
            return (fresh.count, startReaders)
        }
        if startReaders { startReaderThreads() }
        for _ in 0..<queued { self.queued.signal() }
    }

    /// Own threads (see `DetachedThread`); each keeps the prefetcher alive: they never exit.
    private func startReaderThreads() {
        for _ in 0..<concurrency {
            DetachedThread.start(stackSize: 256 * 1024) { self.run() }
        }
    }

    /// A reader: takes the next queued listing, reads it, forever.
    private func run() {
        while true {
            queued.wait()
            let next = state.withLock { state -> (NodeID, Flight)? in
                guard !state.pending.isEmpty else { return nil }
                let node = state.pending.removeFirst()
                let flight = Flight()
                state.reading[node] = flight
                return (node, flight)
            }
            guard let (node, flight) = next else { continue }
            defer { flight.finished.signal() }
            let started = epoch.load(ordering: .sequentiallyConsistent)
            let readAt = SystemCall.monotonicNanoseconds()
            guard let stream = load(node, linkTargets.isWanted()) else {
                state.withLock { _ = $0.reading.removeValue(forKey: node) }
                continue
            }
            stream.readAhead = DirectoryStream.ReadAheadStamp(epoch: started, readAt: readAt)
            state.withLock { state in
                state.reading[node] = nil
                let sequence = state.nextSequence
                state.nextSequence += 1
                if let old = state.ready.updateValue(Ready(stream: stream, sequence: sequence), forKey: node) {
                    state.readyEntries -= old.stream.records.count
                }
                state.readyOrder.append((node, sequence))
                state.readyEntries += stream.records.count
                // The oldest go first: a depth-first walker needs them last.
                while state.readyEntries > entryCapacity, state.readyHead < state.readyOrder.count - 1 {
                    let (oldest, sequence) = state.readyOrder[state.readyHead]
                    state.readyHead += 1
                    if let old = state.ready[oldest], old.sequence == sequence {
                        state.ready[oldest] = nil
                        state.readyEntries -= old.stream.records.count
                    }
                }
                // Taken and evicted listings leave stale elements: drop them once they dominate.
                if state.readyOrder.count > 2 * state.ready.count + 1024 {
                    let live = state.readyOrder[state.readyHead...].filter { state.ready[$0.node]?.sequence == $0.sequence }
                    state.readyOrder = live
                    state.readyHead = 0
                }
            }
            statistics.recordReadAhead(used: false)
        }
    }
}

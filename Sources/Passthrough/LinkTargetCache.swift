import FuseKit
import Synchronization

/// Link targets read with listings read ahead, for the READLINKs of a walker that follows links
/// (os.walk stats every link to learn whether it leads to a directory). On a share every readlink is
/// its own round trips (CIFS opens, reads and closes the link's file); read with the listing, in the
/// background, the walker's READLINK is answered from memory.
///
/// Targets are read only while links are being followed (a READLINK was asked lately):
/// `find -type l` or `du` never read one, so they cost a share nothing more. Whether a kept target
/// may still be served is the listing's own freshness (`ListingPrefetcher.isFresh`).
/// Bounded: at most `capacity` targets, the oldest dropped first.
final class LinkTargetCache: Sendable {
    typealias Stamp = DirectoryStream.ReadAheadStamp

    private struct Kept {
        let target: [UInt8]
        let stamp: Stamp
        /// Its place in `order`.
        let sequence: UInt64
    }

    private struct State: ~Copyable {
        var kept: [NodeID: Kept] = [:]
        /// Kept targets, oldest from `head` on; an element whose sequence no longer matches `kept`
        /// was taken or kept again meanwhile (removing it here would cost a scan).
        var order: [(node: NodeID, sequence: UInt64)] = []
        var head = 0
        var nextSequence: UInt64 = 0
    }

    private let state = Mutex(State())
    /// When a READLINK was last asked; `Int64.min`: never.
    private let lastFollowed = Atomic<Int64>(Int64.min)
    let capacity: Int
    /// How long after a READLINK targets are still read with listings.
    let followWindow: Int64

    /// `followWindow` in nanoseconds.
    init(capacity: Int = 4_096, followWindow: Int64) {
        self.capacity = max(1, capacity)
        self.followWindow = followWindow
    }

    /// A READLINK was asked: a walker is following links.
    func followed(now: Int64 = SystemCall.monotonicNanoseconds()) {
        lastFollowed.store(now, ordering: .relaxed)
    }

    /// Whether listings read now should read their links' targets too.
    func isWanted(now: Int64 = SystemCall.monotonicNanoseconds()) -> Bool {
        let last = lastFollowed.load(ordering: .relaxed)
        return last != Int64.min && now - last < followWindow
    }

    /// Keeps `target` for `node`, read with the listing stamped `stamp`.
    func keep(_ target: [UInt8], for node: NodeID, stamp: Stamp) {
        state.withLock { state in
            let sequence = state.nextSequence
            state.nextSequence += 1
            state.kept[node] = Kept(target: target, stamp: stamp, sequence: sequence)
            state.order.append((node, sequence))
            while state.kept.count > capacity, state.head < state.order.count {
                let (oldest, sequence) = state.order[state.head]
                state.head += 1
                if state.kept[oldest]?.sequence == sequence { state.kept[oldest] = nil }
            }
            // Taken targets leave stale elements: drop them once they dominate.
            if state.order.count - state.head > 2 * state.kept.count + 1024 {
                let live = state.order[state.head...].filter { state.kept[$0.node]?.sequence == $0.sequence }
                state.order = live
                state.head = 0
            } else if state.head > capacity {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// The target kept for `node` and the stamp of the listing it was read with, removed: a second
    /// READLINK of the same link reads the backing (or the kernel's own cache).
    func take(_ node: NodeID) -> (target: [UInt8], stamp: Stamp)? {
        state.withLock { state in
            state.kept.removeValue(forKey: node).map { ($0.target, $0.stamp) }
        }
    }

    /// How many targets are kept.
    var count: Int { state.withLock { $0.kept.count } }
}

import FuseKit
import Synchronization
import LinuxKit

/// Link targets read with listings read ahead, for the READLINKs of a walker that follows links
/// (os.walk stats every link to learn whether it leads to a directory). On a share every readlink is
/// its own round trips (CIFS opens, reads and closes the link's file); read with the listing, in the
/// background, the walker's READLINK is answered from memory.
///
/// Targets are read only while links are being followed (a READLINK was asked lately):
/// `find -type l` or `du` never read one, so they cost a share nothing more. Whether a kept target
/// may still be served is the listing's own freshness (`ListingReadAhead.isFresh`).
/// Bounded: at most `capacity` targets, the oldest dropped first.
final class LinkTargetCache: Sendable {
    typealias Stamp = DirectoryStream.ReadAheadStamp

    private struct Kept {
        let target: [UInt8]
        let stamp: Stamp
    }

    private let kept = Mutex(OldestFirstDictionary<NodeID, Kept>())
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
        kept.withLock { kept in
            kept.updateValue(Kept(target: target, stamp: stamp), forKey: node)
            while kept.count > capacity, kept.removeOldest() != nil {}
        }
    }

    /// The target kept for `node` and the stamp of the listing it was read with, removed: a second
    /// READLINK of the same link reads the backing (or the kernel's own cache).
    func take(_ node: NodeID) -> (target: [UInt8], stamp: Stamp)? {
        kept.withLock { $0.removeValue(forKey: node).map { ($0.target, $0.stamp) } }
    }

    /// How many targets are kept.
    var count: Int { kept.withLock { $0.count } }
}

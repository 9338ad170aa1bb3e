import Glibc
import FuseKit
import Synchronization

/// What each file looked like when it was last opened through the mount. If it looks the same at
/// the next open (size, mtime, ctime, inode), nothing changed it meanwhile, so the pages the kernel
/// cached from it are still right and the open keeps them (FOPEN_KEEP_CACHE): a second read of an
/// unchanged file comes from memory instead of the backing. Any difference (another client wrote,
/// or we did) and the open drops them, as every open did before. ctime cannot be set by a user, so
/// a change that restores size and mtime is still seen. While a file stays open, attribute
/// refreshes drop stale pages (FUSE_CAP_AUTO_INVAL_DATA).
///
/// Equal timestamps prove nothing within one tick of the clock that made them (ext4's coarse
/// timestamps, a server's): a write in the same tick as the last change leaves ctime as it was
/// (xfstests generic/451 read stale data). So a stamp counts only if, when it was taken, the last
/// change was already `settled` in the past: any later change must then show a later ctime. (A
/// server clock behind ours by more than that could still hide one.)
final class PageCacheStamps: Sendable {
    struct Stamp: Equatable {
        var inode: UInt64
        var size: Int64
        var modified: timespec
        var changed: timespec

        init(_ status: stat) {
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            modified = status.st_mtim
            changed = status.st_ctim
        }

        static func == (a: Stamp, b: Stamp) -> Bool {
            a.inode == b.inode && a.size == b.size
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }
    }

    private let stamps = Mutex<[NodeID: Stamp]>([:])
    /// Nanoseconds a change must lie in the past for a stamp to count.
    static let settled: Int64 = 1_000_000_000

    /// `node` is being opened and looks like `status` at `now` (CLOCK_REALTIME, nanoseconds):
    /// whether it looked the same at its last open, by a stamp that counts (the kernel's pages of
    /// it may be kept). Records `status` for the next open, if it counts.
    func opened(_ node: NodeID, _ status: stat, now: Int64) -> Bool {
        let stamp = Stamp(status)
        let changed = Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec)
        let counts = now - changed >= Self.settled
        return stamps.withLock { table in
            let previous = counts ? table.updateValue(stamp, forKey: node) : table.removeValue(forKey: node)
            return previous == stamp
        }
    }

    /// The kernel forgot `node`: its pages went with it.
    func forget(_ node: NodeID) {
        _ = stamps.withLock { $0.removeValue(forKey: node) }
    }
}

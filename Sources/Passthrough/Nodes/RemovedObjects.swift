import Glibc
import FuseKit
import Synchronization

/// The last attributes of objects removed through the mount (rmdir, unlink of a last name, or a
/// rename over them) while the kernel still holds their nodes: no name reaches them any more, yet
/// fstat of a directory still open must succeed and report no links (xfstests generic/035), as
/// the backing itself would. Kept until the kernel forgets the node; bounded by the removed
/// objects that processes still hold (an open directory or a cwd), never by the tree.
final class RemovedObjects: Sendable {
    private let state = Mutex<[UInt64: stat]>([:])

    /// `status`: the object's attributes just before its last name went.
    func add(_ node: NodeID, lastSeen status: stat) {
        var removed = status
        removed.st_nlink = 0
        state.withLock { $0[node.rawValue] = removed }
    }

    func status(of node: NodeID) -> stat? {
        state.withLock { $0[node.rawValue] }
    }

    func forget(_ node: NodeID) {
        state.withLock { table in
            if !table.isEmpty { table[node.rawValue] = nil }
        }
    }
}

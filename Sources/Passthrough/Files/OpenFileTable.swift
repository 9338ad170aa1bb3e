import FuseKit
import Synchronization

/// The backing descriptors currently open for each node. A file unlinked while open has no name
/// left to resolve, yet fstat and fchmod on it must keep working: the kernel may ask by node alone.
final class OpenFileTable: Sendable {
    private let state = Mutex<[UInt64: [Int32]]>([:])

    func add(_ descriptor: Int32, for node: NodeID) {
        state.withLock { $0[node.rawValue, default: []].append(descriptor) }
    }

    func remove(_ descriptor: Int32, for node: NodeID) {
        state.withLock { table in
            table[node.rawValue]?.removeAll { $0 == descriptor }
            if table[node.rawValue]?.isEmpty == true { table[node.rawValue] = nil }
        }
    }

    func any(for node: NodeID) -> Int32? {
        state.withLock { $0[node.rawValue]?.first }
    }
}

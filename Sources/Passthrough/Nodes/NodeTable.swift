import FuseKit
import Synchronization

/// The inodes the kernel knows, and the names that reach them. It holds names, never descriptors,
/// so its size costs memory only and descriptor use stays flat however many inodes the kernel keeps.
///
/// Rules, all here: a node lives while the kernel holds lookups on it (each entry reply adds one;
/// forget removes them); node IDs are never reused; one node per backing inode (hard links share a
/// node, so the kernel sees one inode); a node keeps every name it was looked up by (hard links in
/// several directories), and namespace operations through the mount keep those names current.
/// Names are not bounded: a name is dropped only once it no longer reaches the node (removed or
/// renamed through the mount, or found dead when resolving), never to make room, since the
/// dropped name may be the only one left (20 links, the 8 newest removed: xfstests generic/002).
final class NodeTable: Sendable {
    /// A name of a node: a directory entry `name` in the directory node `parent`.
    struct Name: Hashable {
        var parent: NodeID
        var name: [UInt8]
    }

    struct Node {
        var key: InodeKey
        var names: NameList
        var lookups: UInt64
    }

    private struct State: ~Copyable {
        var nodes = NodeSlab()
        /// With stable inode numbers: the node of each backing object.
        var nodeByKey: [InodeKey: UInt64] = [:]
        /// With unstable inode numbers: the node of each name.
        var nodeByName: [Name: UInt64] = [:]
    }

    /// Deeper than any path the kernel accepts (PATH_MAX / 2): a longer chain can only be a cycle.
    private static let maximumDepth = 2048

    private let state: Mutex<State>
    let inodes: InodeNumbers

    init(rootKey: InodeKey, inodes: InodeNumbers = .stable) {
        self.inodes = inodes
        var initial = State()
        let root = initial.nodes.insert(Node(key: rootKey, names: [], lookups: 1))
        precondition(root == NodeID.root.rawValue, "the first node must get FUSE's root ID")
        initial.nodeByKey[rootKey] = root
        state = Mutex(initial)
    }

    /// Whether an object found with `identity` is the one the node of `key` stands for: the same
    /// number with stable numbers; the same type and device with unstable ones. A type change is
    /// never accepted: the kernel would see its cached inode change type (EIO).
    func isSameObject(_ identity: InodeKey, as key: InodeKey) -> Bool {
        switch inodes {
        case .stable: identity == key
        case .unstable: identity.type == key.type && identity.device == key.device
        }
    }

    /// The node for the backing object `key` reached as `name` in `parent`, with one more lookup.
    func remember(parent: NodeID, name: [UInt8], key: InodeKey) -> NodeID {
        state.withLock { state in
            let place = Name(parent: parent, name: name)
            if inodes == .unstable {
                // The key keeps the number first seen: it is the node's st_ino for its lifetime.
                if let id = state.nodeByName[place], var node = state.nodes[id], isSameObject(key, as: node.key) {
                    node.lookups += 1
                    state.nodes[id] = node
                    return NodeID(id)
                }
                // New, or another type now: the old node keeps the old object for whoever holds it.
                let id = state.nodes.insert(Node(key: key, names: [place], lookups: 1))
                state.nodeByName[place] = id
                return NodeID(id)
            }
            if let id = state.nodeByKey[key], var node = state.nodes[id] {
                // The root reached again (a bind mount of it inside itself): its lookups don't count.
                if id == NodeID.root.rawValue { return .root }
                node.lookups += 1
                if !node.names.contains(place) {
                    node.names.insertFirst(place)
                }
                state.nodes[id] = node
                return NodeID(id)
            }
            let id = state.nodes.insert(Node(key: key, names: [place], lookups: 1))
            state.nodeByKey[key] = id
            return NodeID(id)
        }
    }

    /// Drops `count` lookups; the node is gone when none remain (then true). The root is never
    /// forgotten.
    @discardableResult
    func forget(_ node: NodeID, count: UInt64) -> Bool {
        guard node != .root else { return false }
        return state.withLock { state in
            guard var entry = state.nodes[node.rawValue] else { return false }
            if entry.lookups > count {
                entry.lookups -= count
                state.nodes[node.rawValue] = entry
                return false
            }
            state.nodes[node.rawValue] = nil
            if state.nodeByKey[entry.key] == node.rawValue { state.nodeByKey[entry.key] = nil }
            for place in entry.names where state.nodeByName[place] == node.rawValue { state.nodeByName[place] = nil }
            return true
        }
    }

    func key(of node: NodeID) -> InodeKey? {
        state.withLock { $0.nodes[node.rawValue]?.key }
    }

    var count: Int { state.withLock { $0.nodes.count } }

    /// The node's path relative to the root ("." for the root), NUL-terminated, by its first name
    /// whose parents are all still known; nil if the node is unknown or no name reaches it.
    func path(of node: NodeID) -> [UInt8]? {
        state.withLock { state in Self.path(of: node, in: state) }
    }

    /// Every path that may reach the node, one per name whose parents are all known, best first.
    func paths(of node: NodeID) -> [[UInt8]] {
        state.withLock { state in
            if node == .root { return [[0x2E, 0]] }
            guard let entry = state.nodes[node.rawValue] else { return [] }
            return entry.names.compactMap { Self.path(of: $0, in: state) }
        }
    }

    /// Forgets the name `path` (as returned by `paths(of:)`) once it no longer reaches the node, so
    /// other names (hard links) are tried first next time. The last name is kept: the failure may be
    /// transient (an ancestor being renamed through the mount fails for an instant before the
    /// table follows the rename), and a node without names could never be reached again, while a
    /// dead name only costs a failed open.
    func removeName(of node: NodeID, path: [UInt8]) {
        state.withLock { state in
            guard var entry = state.nodes[node.rawValue] else { return }
            // A name whose parents are gone cannot reach anything either.
            var dropped: [Name] = []
            entry.names.removeAll { place in
                let dead = Self.path(of: place, in: state).map { $0 == path } ?? true
                if dead { dropped.append(place) }
                return dead
            }
            guard entry.names.count > 0 else { return }
            state.nodes[node.rawValue] = entry
            for place in dropped where state.nodeByName[place] == node.rawValue { state.nodeByName[place] = nil }
        }
    }

    /// The path of the node's parent directory and the node's name in it (nil for the root).
    func parentPath(of node: NodeID) -> (directory: [UInt8], name: [UInt8])? {
        state.withLock { state in
            guard let entry = state.nodes[node.rawValue] else { return nil }
            for place in entry.names {
                if let directory = Self.path(of: place.parent, in: state) {
                    return (directory, place.name + [0])
                }
            }
            return nil
        }
    }

    /// `name` in `parent` no longer reaches `key` (unlinked, or replaced by a rename).
    func removeName(parent: NodeID, name: [UInt8], key: InodeKey) {
        state.withLock { state in
            let place = Name(parent: parent, name: name)
            guard let id = id(of: key, named: place, in: state) else { return }
            state.nodes[id]?.names.removeAll { $0 == place }
            if state.nodeByName[place] == id { state.nodeByName[place] = nil }
        }
    }

    /// The node of the object `key` that `place` reaches (by number or by name).
    private func id(of key: InodeKey, named place: Name, in state: borrowing State) -> UInt64? {
        switch inodes {
        case .stable:
            return state.nodeByKey[key]
        case .unstable:
            guard let id = state.nodeByName[place], let node = state.nodes[id], isSameObject(key, as: node.key) else { return nil }
            return id
        }
    }

    /// The object `key` is about to lose its last name through us: from now on a new object that
    /// reuses the inode number gets a new node, not the kernel's cached inode of the dying one. Done
    /// before the removal, so a concurrent create that recycles the number cannot slip in between;
    /// `finishDetach` or `reattach` follows.
    func detach(parent: NodeID, name: [UInt8], key: InodeKey) -> NodeID? {
        state.withLock { state in
            let place = Name(parent: parent, name: name)
            guard let id = id(of: key, named: place, in: state), id != NodeID.root.rawValue else { return nil }
            state.nodeByKey[key] = nil
            if state.nodeByName[place] == id { state.nodeByName[place] = nil }
            return NodeID(id)
        }
    }

    /// The removal succeeded: the detached node has no names left.
    func finishDetach(_ node: NodeID) {
        state.withLock { $0.nodes[node.rawValue]?.names.removeAll() }
    }

    /// The removal failed: the object still exists, so its node is found by its key again.
    func reattach(_ node: NodeID, parent: NodeID, name: [UInt8], key: InodeKey) {
        state.withLock { state in
            guard state.nodes[node.rawValue] != nil else { return }
            switch inodes {
            case .stable:
                if state.nodeByKey[key] == nil { state.nodeByKey[key] = node.rawValue }
            case .unstable:
                let place = Name(parent: parent, name: name)
                if state.nodeByName[place] == nil { state.nodeByName[place] = node.rawValue }
            }
        }
    }

    /// A rename: each `key` moved from its `from` name to its `to` name (two for an exchange). The
    /// nodes are all found before any name moves, since an exchange swaps names between them.
    func moveNames(_ moves: [(key: InodeKey, from: Name, to: Name)]) {
        state.withLock { state in
            let ids = moves.map { id(of: $0.key, named: $0.from, in: state) }
            for (move, id) in zip(moves, ids) {
                if state.nodeByName[move.from] == id { state.nodeByName[move.from] = nil }
            }
            for (move, id) in zip(moves, ids) {
                guard let id, var entry = state.nodes[id] else { continue }
                entry.names.removeAll { $0 == move.from || $0 == move.to }
                entry.names.insertFirst(move.to)
                state.nodes[id] = entry
                if inodes == .unstable { state.nodeByName[move.to] = id }
            }
        }
    }

    /// The NUL-terminated path of `place`, nil if one of its parents is unknown.
    private static func path(of place: Name, in state: borrowing State) -> [UInt8]? {
        guard let directory = path(of: place.parent, in: state) else { return nil }
        return place.parent == .root ? place.name + [0] : directory.dropLast() + [0x2F] + place.name + [0]
    }

    private static func path(of node: NodeID, in state: borrowing State) -> [UInt8]? {
        if node == .root { return [0x2E, 0] }
        var components: [[UInt8]] = []
        var current = node
        var length = 0
        while current != .root {
            guard components.count < maximumDepth, let entry = state.nodes[current.rawValue] else { return nil }
            // Directories have one name; a hard-linked file's first live name is as good as any.
            guard let place = entry.names.first(where: { $0.parent == .root || state.nodes[$0.parent.rawValue] != nil }) else {
                return nil
            }
            components.append(place.name)
            length += place.name.count + 1
            current = place.parent
        }
        var path: [UInt8] = []
        path.reserveCapacity(length)
        for component in components.reversed() {
            if !path.isEmpty { path.append(0x2F) }
            path.append(contentsOf: component)
        }
        path.append(0)
        return path
    }
}

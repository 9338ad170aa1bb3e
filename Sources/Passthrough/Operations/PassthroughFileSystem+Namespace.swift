import Glibc
import CLinux
import FuseKit
import LinuxKit

// lookup, forget, readlink, mknod, mkdir, symlink, link, unlink, rmdir, rename, as FuseBridge's
// NamespaceOperations: names change, and the node table follows.
extension PassthroughFileSystem {
    public func lookup(parent: NodeID, name: FileName) throws(Errno) -> Entry {
        do {
            return try tree.withEntry(parent, name) { (directory, cName) throws(Errno) -> Entry in
                try lookUpEntry(directory: directory, parent: parent, name: cName, nameBytes: name.bytes)
            }
        } catch Errno.noEntry where configuration.negativeTimeout > 0 {
            // A node-0 entry lets the kernel cache the absence, as CIFS caches it for actimeo.
            return Entry(node: .none, attributes: Attributes(stat()),
                         entryTimeout: configuration.negativeTimeout, attrTimeout: 0)
        }
    }

    public func forget(node: NodeID, count: UInt64) {
        if tree.nodes.forget(node, count: count) {
            removedObjects.forget(node)
            pageCacheStamps.forget(node)
        }
    }

    public func readLink(node: NodeID) throws(Errno) -> [UInt8] {
        // A walker following names: the target was likely read with the link's listing.
        if let target = listings.linkTarget(of: node) { return target }
        return try tree.withNode(node) { (descriptor) throws(Errno) -> [UInt8] in try SystemCall.readLink(descriptor) }
    }

    public func makeNode(parent: NodeID, name: FileName, mode: mode_t, device: dev_t, caller: Caller) throws(Errno) -> Entry {
        defer { listings.changed() }
        return try tree.withEntry(parent, name) { (directory, cName) throws(Errno) -> Entry in
            try CallerCredentials.asCaller(caller, umask: configuration.acl) { () throws(Errno) in
                try SystemCall.makeNode(in: directory, cName, mode: mode, device: device)
            }
            return try lookUpEntry(directory: directory, parent: parent, name: cName, nameBytes: name.bytes)
        }
    }

    public func makeDirectory(parent: NodeID, name: FileName, mode: mode_t, caller: Caller) throws(Errno) -> Entry {
        defer { listings.changed() }
        return try tree.withEntry(parent, name) { (directory, cName) throws(Errno) -> Entry in
            try CallerCredentials.asCaller(caller, umask: configuration.acl) { () throws(Errno) in
                try SystemCall.makeDirectory(in: directory, cName, mode: mode)
            }
            return try lookUpEntry(directory: directory, parent: parent, name: cName, nameBytes: name.bytes)
        }
    }

    public func symlink(target: [UInt8], parent: NodeID, name: FileName, caller: Caller) throws(Errno) -> Entry {
        defer { listings.changed() }
        return try tree.withEntry(parent, name) { (directory, cName) throws(Errno) -> Entry in
            try CallerCredentials.asCaller(caller) { () throws(Errno) in
                try FileName(bytes: target).withCString { (cTarget) throws(Errno) in
                    try SystemCall.makeSymbolicLink(target: cTarget, in: directory, cName)
                }
            }
            return try lookUpEntry(directory: directory, parent: parent, name: cName, nameBytes: name.bytes)
        }
    }

    public func link(node: NodeID, newParent: NodeID, newName: FileName) throws(Errno) -> Entry {
        defer { listings.changed() }
        return try tree.withParentOf(node) { (sourceDirectory, sourceName) throws(Errno) -> Entry in
            try tree.withEntry(newParent, newName) { (directory, cName) throws(Errno) -> Entry in
                try SystemCall.link(from: sourceDirectory, sourceName, to: directory, cName)
                return try lookUpEntry(directory: directory, parent: newParent, name: cName, nameBytes: newName.bytes)
            }
        }
    }

    public func unlink(parent: NodeID, name: FileName) throws(Errno) {
        defer { listings.changed() }
        try remove(parent: parent, name: name, flags: 0)
    }

    public func removeDirectory(parent: NodeID, name: FileName) throws(Errno) {
        defer { listings.changed() }
        try remove(parent: parent, name: name, flags: AT_REMOVEDIR)
    }

    private func remove(parent: NodeID, name: FileName, flags: Int32) throws(Errno) {
        try tree.withEntry(parent, name) { (directory, cName) throws(Errno) in
            // The key tells which node loses this name (a hard link keeps its other names).
            let before = try? SystemCall.status(in: directory, cName)
            let key = before.map(InodeKey.init)
            let dying = before.flatMap { status in
                Self.isLastName(status) ? tree.nodes.detach(parent: parent, name: name.bytes, key: InodeKey(status)) : nil
            }
            do throws(Errno) {
                try SystemCall.unlink(in: directory, cName, flags: flags)
            } catch {
                if let dying, let key { tree.nodes.reattach(dying, parent: parent, name: name.bytes, key: key) }
                throw error
            }
            if let dying, let before {
                tree.nodes.finishDetach(dying)
                removedObjects.add(dying, lastSeen: before)
            } else if let key {
                tree.nodes.removeName(parent: parent, name: name.bytes, key: key)
            }
        }
    }

    /// Removing this name removes the object: a directory, or a file with one link.
    private static func isLastName(_ status: stat) -> Bool {
        FileType(mode: status.st_mode) == .directory || status.st_nlink <= 1
    }

    public func rename(parent: NodeID, name: FileName, newParent: NodeID, newName: FileName, flags: UInt32) throws(Errno) {
        defer { listings.changed() }
        try tree.withEntry(parent, name) { (directory, cName) throws(Errno) in
            try tree.withEntry(newParent, newName) { (newDirectory, cNewName) throws(Errno) in
                let moving = try? InodeKey(SystemCall.status(in: directory, cName))
                let replacedStatus = try? SystemCall.status(in: newDirectory, cNewName)
                let replaced = replacedStatus.map(InodeKey.init)
                let exchange = flags & clinux_RENAME_EXCHANGE != 0
                // A target that loses its last name is detached first, as in unlink.
                let dying = replacedStatus.flatMap { status in
                    !exchange && InodeKey(status) != moving && Self.isLastName(status)
                        ? tree.nodes.detach(parent: newParent, name: newName.bytes, key: InodeKey(status)) : nil
                }
                do throws(Errno) {
                    try SystemCall.rename(from: directory, cName, to: newDirectory, cNewName, flags: flags)
                } catch {
                    if let dying, let replaced { tree.nodes.reattach(dying, parent: newParent, name: newName.bytes, key: replaced) }
                    throw error
                }
                let old = NodeTable.Name(parent: parent, name: name.bytes)
                let new = NodeTable.Name(parent: newParent, name: newName.bytes)
                var moves: [(key: InodeKey, from: NodeTable.Name, to: NodeTable.Name)] = []
                if exchange, let replaced {
                    moves.append((replaced, new, old))
                } else if let dying, let replacedStatus {
                    tree.nodes.finishDetach(dying)
                    removedObjects.add(dying, lastSeen: replacedStatus)
                } else if let replaced, replaced != moving {
                    tree.nodes.removeName(parent: newParent, name: newName.bytes, key: replaced)
                }
                if let moving { moves.append((moving, old, new)) }
                tree.nodes.moveNames(moves)
            }
        }
    }
}

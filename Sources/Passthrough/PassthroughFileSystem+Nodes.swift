import Glibc
import CLinux
import FuseKit

// lookup, forget, getattr, setattr, readlink, statfs.
extension PassthroughFileSystem {
    public func lookup(parent: NodeID, name: FileName) throws(Errno) -> Entry {
        do {
            return try tree.withEntry(parent, name) { (directory, cName) throws(Errno) -> Entry in
                try lookUpEntry(directory: directory, parent: parent, name: cName, nameBytes: name.bytes)
            }
        } catch Errno.noEntry where configuration.negativeTimeout > 0 {
            // A node-0 entry lets the kernel cache the absence, as CIFS caches it for actimeo.
            return Entry(node: .none, attributes: Attributes(stat()),
                         entryTimeout: configuration.negativeTimeout, attributeTimeout: 0)
        }
    }

    public func forget(node: NodeID, count: UInt64) {
        if tree.nodes.forget(node, count: count) { removedObjects.forget(node) }
    }

    public func getAttributes(node: NodeID, handle: UInt64?) throws(Errno) -> AttributesReply {
        let status: stat
        if let handle, let descriptor = fileDescriptor(handle) {
            status = try SystemCall.status(of: descriptor)
        } else if node == .root {
            status = try SystemCall.status(of: tree.root)
        } else {
            do throws(Errno) {
                status = try tree.withNodeStatus(node) { (_, status) throws(Errno) -> stat in status }
            } catch {
                // No name reaches it any more, but it may still be open (unlinked while open), or
                // held by the kernel after we removed it (an open directory, a cwd).
                guard let descriptor = openFiles.any(for: node) else {
                    guard let removed = removedObjects.status(of: node) else { throw error }
                    return AttributesReply(attributes: attributes(removed, of: node), timeout: configuration.attributeTimeout)
                }
                do throws(Errno) {
                    status = try SystemCall.status(of: descriptor)
                } catch where error == Errno(ESTALE) {
                    // The backing object is gone and its filesystem cannot stat the open file.
                    throw .noEntry
                }
            }
        }
        return AttributesReply(attributes: attributes(status, of: node), timeout: configuration.attributeTimeout)
    }

    public func setAttributes(node: NodeID, changes: AttributeChanges, handle: UInt64?, caller: Caller) throws(Errno) -> AttributesReply {
        defer { prefetcher?.invalidate() }
        if let handle, let descriptor = fileDescriptor(handle) {
            try apply(changes, toOpenFile: descriptor, caller: caller)
            return AttributesReply(attributes: attributes(try SystemCall.status(of: descriptor), of: node), timeout: configuration.attributeTimeout)
        }
        let pathDescriptor: Int32
        do throws(Errno) {
            pathDescriptor = try tree.open(node, flags: clinux_O_PATH)
        } catch {
            guard let descriptor = openFiles.any(for: node) else { throw error }
            try apply(changes, toOpenFile: descriptor, caller: caller)
            return AttributesReply(attributes: attributes(try SystemCall.status(of: descriptor), of: node), timeout: configuration.attributeTimeout)
        }
        defer { SystemCall.close(pathDescriptor) }
        let type = try SystemCall.identity(of: pathDescriptor).type
        let isLink = type == .symbolicLink
        if let mode = changes.mode {
            // Linux has no lchmod: a link's mode cannot change, and following it could leave the tree.
            if isLink { throw Errno.notSupported }
            try SystemCall.changeMode(pathDescriptor, mode: mode, isPathDescriptor: true)
        }
        if changes.uid != nil || changes.gid != nil {
            try SystemCall.changeOwner(pathDescriptor, uid: changes.uid ?? uid_t.max, gid: changes.gid ?? gid_t.max)
        }
        if let size = changes.size {
            guard type == .regular else { throw type == .directory ? Errno(EISDIR) : Errno.invalid }
            let writable = try SystemCall.withProcPath(of: pathDescriptor) { (path) throws(Errno) -> Int32 in
                try retryingInterrupts { Glibc.open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC) }
            }
            defer { SystemCall.close(writable) }
            try CallerCredentials.asWriter(caller) { () throws(Errno) in try SystemCall.truncate(writable, size: size) }
        }
        if changes.accessTime != nil || changes.modificationTime != nil {
            let times = Self.timespecs(changes)
            if isLink {
                try tree.withParentOf(node) { (directory, name) throws(Errno) in try SystemCall.setTimes(in: directory, name, times) }
            } else {
                try SystemCall.setTimes(pathDescriptor: pathDescriptor, times)
            }
        }
        return AttributesReply(attributes: attributes(try SystemCall.status(of: pathDescriptor), of: node), timeout: configuration.attributeTimeout)
    }

    private func apply(_ changes: AttributeChanges, toOpenFile descriptor: Int32, caller: Caller) throws(Errno) {
        if let mode = changes.mode { try SystemCall.changeMode(descriptor, mode: mode, isPathDescriptor: false) }
        if changes.uid != nil || changes.gid != nil {
            try SystemCall.changeOwner(descriptor, uid: changes.uid ?? uid_t.max, gid: changes.gid ?? gid_t.max)
        }
        if let size = changes.size {
            // As the caller: the kernel's FUSE setattr kills setgid only with group execute, the
            // backing also when the caller is not in the file's group (xfstests' rule).
            try CallerCredentials.asWriter(caller) { () throws(Errno) in try SystemCall.truncate(descriptor, size: size) }
        }
        if changes.accessTime != nil || changes.modificationTime != nil {
            let times = Self.timespecs(changes)
            try SystemCall.setTimes(descriptor, times)
        }
    }

    /// utimensat's pair: UTIME_OMIT for what is not asked, UTIME_NOW for "now".
    static func timespecs(_ changes: AttributeChanges) -> [timespec] {
        func convert(_ change: AttributeChanges.TimeChange?) -> timespec {
            switch change {
            case nil: return timespec(tv_sec: 0, tv_nsec: clinux_UTIME_OMIT)
            case .now: return timespec(tv_sec: 0, tv_nsec: clinux_UTIME_NOW)
            case let .set(seconds, nanoseconds): return timespec(tv_sec: seconds, tv_nsec: nanoseconds)
            }
        }
        return [convert(changes.accessTime), convert(changes.modificationTime)]
    }

    public func readLink(node: NodeID) throws(Errno) -> [UInt8] {
        // A walker following links: the target was likely read with the link's listing.
        if let target = prefetcher?.linkTarget(of: node) { return target }
        return try tree.withNode(node) { (descriptor) throws(Errno) -> [UInt8] in try SystemCall.readLink(descriptor) }
    }

    public func statistics(node: NodeID) throws(Errno) -> FileSystemStatistics {
        let status: statvfs
        if node == .root {
            status = try SystemCall.fileSystemStatus(tree.root)
        } else {
            status = try tree.withNode(node) { (descriptor) throws(Errno) -> statvfs in try SystemCall.fileSystemStatus(descriptor) }
        }
        return FileSystemStatistics(
            blockSize: UInt64(status.f_bsize), fragmentSize: UInt64(status.f_frsize),
            blocks: UInt64(status.f_blocks), blocksFree: UInt64(status.f_bfree), blocksAvailable: UInt64(status.f_bavail),
            files: UInt64(status.f_files), filesFree: UInt64(status.f_ffree), filesAvailable: UInt64(status.f_favail),
            maximumNameLength: UInt64(status.f_namemax))
    }
}

import Glibc
import CLinux
import FuseKit
import LinuxKit

// getattr, setattr, statfs and the extended attributes, as FuseBridge's AttributeOperations.
extension PassthroughFileSystem {
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
                    return AttributesReply(attributes: attributes(removed, of: node), timeout: configuration.attrTimeout)
                }
                do throws(Errno) {
                    status = try SystemCall.status(of: descriptor)
                } catch where error == Errno(ESTALE) {
                    // The backing object is gone and its filesystem cannot stat the open file.
                    throw .noEntry
                }
            }
        }
        return AttributesReply(attributes: attributes(status, of: node), timeout: configuration.attrTimeout)
    }

    public func setAttributes(node: NodeID, changes: AttributeChanges, handle: UInt64?, caller: Caller) throws(Errno) -> AttributesReply {
        defer { listings.changed() }
        if let handle, let descriptor = fileDescriptor(handle) {
            try apply(changes, toOpenFile: descriptor, caller: caller)
            return AttributesReply(attributes: attributes(try SystemCall.status(of: descriptor), of: node), timeout: configuration.attrTimeout)
        }
        let opened: FileDescriptor
        do throws(Errno) {
            opened = try tree.open(node, flags: clinux_O_PATH)
        } catch {
            guard let descriptor = openFiles.any(for: node) else { throw error }
            try apply(changes, toOpenFile: descriptor, caller: caller)
            return AttributesReply(attributes: attributes(try SystemCall.status(of: descriptor), of: node), timeout: configuration.attrTimeout)
        }
        let pathDescriptor = opened.rawValue  // `opened` closes it at the end of this call
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
                try SystemCall.open(path: path, flags: O_WRONLY | O_NONBLOCK)
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
        return AttributesReply(attributes: attributes(try SystemCall.status(of: pathDescriptor), of: node), timeout: configuration.attrTimeout)
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

    public func fileSystemStatistics(node: NodeID) throws(Errno) -> FileSystemStatistics {
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

// xattrs reach exactly the verified node without ever following a symlink: a non-link through the
// /proc magic link of its O_PATH descriptor; a link (trusted.* and security.* are allowed there) as
// its name inside the /proc magic link of its parent directory, with the l*xattr calls.
extension PassthroughFileSystem {
    private func withExtendedAttributeTarget<R>(_ node: NodeID, _ body: (UnsafePointer<CChar>, Bool) throws(Errno) -> R) throws(Errno) -> R {
        let opened = try tree.open(node, flags: clinux_O_PATH)
        let descriptor = opened.rawValue  // `opened` closes it at the end of this call
        // The descriptor was verified to be the node's inode, whose type is part of its key: no
        // second statx needed (`ls -l` asks two xattrs of every entry) unless the node was just
        // forgotten. A link must never go through the /proc path below, which would follow it.
        let type = if let key = tree.nodes.key(of: node) { key.type } else { try SystemCall.identity(of: descriptor).type }
        guard type == .symbolicLink else {
            return try SystemCall.withProcPath(of: descriptor) { (path) throws(Errno) -> R in try body(path, true) }
        }
        return try tree.withParentOf(node) { (directory, name) throws(Errno) -> R in
            var path = Array("/proc/self/fd/\(directory)/".utf8)
            path.append(contentsOf: UnsafeRawBufferPointer(start: name, count: strlen(name)))
            path.append(0)
            return try SystemCall.withTerminated(path) { (cPath) throws(Errno) -> R in try body(cPath, false) }
        }
    }

    /// An access ACL is set with the caller's rights to keep the setgid bit (CallerCredentials.asWriter):
    /// the backing then clears it for a caller outside the file's group, as the kernel asks with
    /// FUSE_SETXATTR_ACL_KILL_SGID, a flag libfuse 3.14's API does not pass on (xfstests generic/375).
    public func setExtendedAttribute(node: NodeID, name: FileName, value: UnsafeRawBufferPointer, flags: Int32,
                                     caller: Caller) throws(Errno) {
        guard configuration.xattr else { throw Errno(ENOSYS) }
        defer { listings.changed() }
        let set = { () throws(Errno) in
            try self.withExtendedAttributeTarget(node) { (path, followsLast) throws(Errno) in
                try name.withCString { (cName) throws(Errno) in
                    try SystemCall.setExtendedAttribute(path, followsLast: followsLast, name: cName, value: value, flags: flags)
                }
            }
        }
        if name.bytes == Self.accessACLName {
            try CallerCredentials.asWriter(caller, set)
        } else {
            try set()
        }
    }

    private static let accessACLName = Array("system.posix_acl_access".utf8)

    public func getExtendedAttribute(node: NodeID, name: FileName, size: Int) throws(Errno) -> ExtendedAttributeReply {
        guard configuration.xattr else { throw Errno(ENOSYS) }
        // A walker asking every entry (ls -l): the answer was likely read with the entry's listing.
        let type = tree.nodes.key(of: node)?.type ?? .unknown
        switch listings.extendedAttribute(of: node, named: name.bytes, type: type) {
        case let .value(value)?:
            if size == 0 { return .size(value.count) }
            guard value.count <= size else { throw Errno(ERANGE) }
            return .bytes(value)
        case let .failure(error)?:
            throw error
        case nil:
            break
        }
        return try withExtendedAttributeTarget(node) { (path, followsLast) throws(Errno) -> ExtendedAttributeReply in
            try name.withCString { (cName) throws(Errno) -> ExtendedAttributeReply in
                try Self.sized(size) { (buffer) throws(Errno) -> Int in
                    try SystemCall.getExtendedAttribute(path, followsLast: followsLast, name: cName, into: buffer)
                }
            }
        }
    }

    public func listExtendedAttributes(node: NodeID, size: Int) throws(Errno) -> ExtendedAttributeReply {
        guard configuration.xattr else { throw Errno(ENOSYS) }
        return try withExtendedAttributeTarget(node) { (path, followsLast) throws(Errno) -> ExtendedAttributeReply in
            try Self.sized(size) { (buffer) throws(Errno) -> Int in
                try SystemCall.listExtendedAttributes(path, followsLast: followsLast, into: buffer)
            }
        }
    }

    public func removeExtendedAttribute(node: NodeID, name: FileName) throws(Errno) {
        guard configuration.xattr else { throw Errno(ENOSYS) }
        defer { listings.changed() }
        try withExtendedAttributeTarget(node) { (path, followsLast) throws(Errno) in
            try name.withCString { (cName) throws(Errno) in
                try SystemCall.removeExtendedAttribute(path, followsLast: followsLast, name: cName)
            }
        }
    }

    /// getxattr/listxattr's protocol: size 0 asks for the length; otherwise the value must fit.
    private static func sized(_ size: Int, _ call: (UnsafeMutableRawBufferPointer) throws(Errno) -> Int) throws(Errno) -> ExtendedAttributeReply {
        if size == 0 {
            return .size(try call(UnsafeMutableRawBufferPointer(start: nil, count: 0)))
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
        defer { buffer.deallocate() }
        let count = try call(buffer)
        return .bytes([UInt8](buffer[0..<count]))
    }
}

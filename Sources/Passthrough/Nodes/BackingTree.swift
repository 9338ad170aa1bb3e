import Glibc
import CLinux
import FuseKit
import LinuxKit

/// The backing directory: a descriptor opened before mounting (so mounting over the same path works)
/// and the node table. Every path is resolved beneath that descriptor with openat2 refusing all
/// symlinks, and final components are used with *at(..., AT_SYMLINK_NOFOLLOW): whatever other
/// clients of the share do to the tree, no operation reaches outside it.
final class BackingTree: Sendable {
    private let rootDescriptor: FileDescriptor
    let nodes: NodeTable

    /// The backing root, open for the life of the mount.
    var root: Int32 { rootDescriptor.rawValue }

    /// Opens `path` as the backing root. The path itself may contain symlinks: the user chose it.
    init(path: String, inodes: InodeNumbers = .stable) throws(Errno) {
        let descriptor = FileDescriptor(owning: try SystemCall.open(path: path, flags: clinux_O_PATH | O_DIRECTORY))
        let status = try SystemCall.status(of: descriptor.rawValue)
        rootDescriptor = descriptor
        nodes = NodeTable(rootKey: InodeKey(status), inodes: inodes)
    }

    /// A descriptor of the node itself (O_PATH|O_NOFOLLOW reaches symlinks too).
    /// A name may now reach another object (another client renamed, deleted or swapped it): only a
    /// descriptor of the very inode the kernel knows is returned, trying each name of the node and
    /// forgetting names that no longer reach it. Answering with another object's attributes would
    /// make the kernel see an inode change type, which it reports as EIO.
    func open(_ node: NodeID, flags: Int32) throws(Errno) -> FileDescriptor {
        // O_PATH has no open-time effects; neither has reading a directory (O_DIRECTORY fails on
        // anything else, so a FIFO or device swapped in is never opened).
        if flags & clinux_O_PATH != 0 || (flags & O_DIRECTORY != 0 && flags & O_ACCMODE == O_RDONLY) {
            return try openVerified(node, flags: flags)
        }
        // Open flags act at open time (O_TRUNC, O_CREAT): verify with O_PATH first, then reopen
        // exactly that inode through its /proc magic link.
        let pathDescriptor = try openVerified(node, flags: clinux_O_PATH | (flags & O_DIRECTORY))
        do throws(Errno) {
            return FileDescriptor(owning: try SystemCall.withProcPath(of: pathDescriptor.rawValue) { (path) throws(Errno) -> Int32 in
                try SystemCall.open(path: path, flags: flags & ~O_NOFOLLOW)
            })
        } catch where error == Errno(ESTALE) {
            // Removed since it was verified (path-based FUSE filesystems say ESTALE): it is gone.
            throw .noEntry
        }
    }

    /// Runs `body` with an O_PATH descriptor of the node and its fresh attributes (one fstat both
    /// verifies the inode and answers getattr).
    func withNodeStatus<R>(_ node: NodeID, _ body: (Int32, stat) throws(Errno) -> R) throws(Errno) -> R {
        var status = stat()
        let descriptor = try openVerified(node, flags: clinux_O_PATH, freshStatus: &status)
        return try body(descriptor.rawValue, status)
    }

    private func openVerified(_ node: NodeID, flags: Int32) throws(Errno) -> FileDescriptor {
        try openVerified(node, flags: flags, freshStatus: nil)
    }

    /// `freshStatus`: also fetch current attributes (fstat) into it; otherwise the identity alone is
    /// checked, from the attribute cache. Names that no longer reach the node are dropped from the
    /// table (the root has none to drop).
    private func openVerified(_ node: NodeID, flags: Int32, freshStatus: UnsafeMutablePointer<stat>?) throws(Errno) -> FileDescriptor {
        guard let key = nodes.key(of: node) else { throw Errno(ESTALE) }
        var failure = Errno.noEntry
        for path in nodes.paths(of: node) {
            let descriptor: Int32
            do throws(Errno) {
                descriptor = try SystemCall.withTerminated(path) { (cPath) throws(Errno) -> Int32 in
                    try SystemCall.openBeneath(root, cPath, flags: flags | O_NOFOLLOW)
                }
            } catch {
                // ESTALE: a path-based FUSE backing's object went between lookup and open.
                if error == .noEntry || error == Errno(ELOOP) || error == .notDirectory || error == Errno(ESTALE) {
                    nodes.removeName(of: node, path: path)
                } else {
                    failure = error
                }
                continue
            }
            do throws(Errno) {
                let status = freshStatus != nil ? try SystemCall.status(of: descriptor) : nil
                let identity = if let status { InodeKey(status) } else { try InodeKey(of: descriptor) }
                if nodes.isSameObject(identity, as: key) {
                    if let status { freshStatus?.pointee = status }
                    return FileDescriptor(owning: descriptor)
                }
                if key.type == .directory, identity.type == .directory, identity.device == key.device {
                    InodeNumberChange.noteOnce()
                }
                nodes.removeName(of: node, path: path)
            } catch where error == Errno(ESTALE) {
                // Removed between open and fstat (path-based FUSE filesystems say ESTALE): gone.
                nodes.removeName(of: node, path: path)
            } catch {
                // The backing filesystem failed (e.g. ENOTCONN): say so rather than "no such file".
                failure = error
            }
            SystemCall.close(descriptor)
        }
        throw failure
    }

    /// Resolves `path` (beneath the root, NUL-terminated) as every operation does, refusing any
    /// symlink and any escape, and lets go of it: the backing has looked its names up, so on a share
    /// they are in the client's caches for a while. Whether it resolved.
    func lookUp(_ path: [UInt8]) -> Bool {
        guard let descriptor = try? SystemCall.withTerminated(path, { (cPath) throws(Errno) -> Int32 in
            try SystemCall.openBeneath(root, cPath, flags: clinux_O_PATH | O_NOFOLLOW)
        }) else { return false }
        SystemCall.close(descriptor)
        return true
    }

    /// Runs `body` with an O_PATH descriptor of the node, closed afterwards.
    func withNode<R>(_ node: NodeID, _ body: (Int32) throws(Errno) -> R) throws(Errno) -> R {
        let descriptor = try open(node, flags: clinux_O_PATH)
        return try body(descriptor.rawValue)
    }

    /// Runs `body` with an O_PATH descriptor of the directory node (the root's own for the root).
    func withDirectory<R>(_ node: NodeID, _ body: (Int32) throws(Errno) -> R) throws(Errno) -> R {
        if node == .root { return try body(root) }
        let descriptor = try open(node, flags: clinux_O_PATH | O_DIRECTORY)
        return try body(descriptor.rawValue)
    }

    /// Runs `body` with `name` in the directory node `parent`, after refusing names that are not a
    /// single component.
    func withEntry<R>(_ parent: NodeID, _ name: FileName, _ body: (Int32, UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
        guard name.isSingleComponent else { throw Errno.invalid }
        return try withDirectory(parent) { (directory) throws(Errno) -> R in
            try name.withCString { (cName) throws(Errno) -> R in try body(directory, cName) }
        }
    }

    /// Runs `body` with the node's parent directory and its name there (for *at calls on a node).
    func withParentOf<R>(_ node: NodeID, _ body: (Int32, UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
        guard let (directoryPath, name) = nodes.parentPath(of: node) else { throw Errno(ESTALE) }
        let directory = try SystemCall.withTerminated(directoryPath) { (cPath) throws(Errno) -> Int32 in
            try SystemCall.openBeneath(root, cPath, flags: clinux_O_PATH | O_DIRECTORY)
        }
        defer { SystemCall.close(directory) }
        return try SystemCall.withTerminated(name) { (cName) throws(Errno) -> R in try body(directory, cName) }
    }
}

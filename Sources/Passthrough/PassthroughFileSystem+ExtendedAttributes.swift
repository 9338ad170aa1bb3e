import Glibc
import CLinux
import FuseKit

// xattrs reach exactly the verified node without ever following a symlink: a non-link through the
// /proc magic link of its O_PATH descriptor; a link (trusted.* and security.* are allowed there) as
// its name inside the /proc magic link of its parent directory, with the l*xattr calls.
extension PassthroughFileSystem {
    private func withExtendedAttributeTarget<R>(_ node: NodeID, _ body: (UnsafePointer<CChar>, Bool) throws(Errno) -> R) throws(Errno) -> R {
        let descriptor = try tree.open(node, flags: clinux_O_PATH)
        defer { SystemCall.close(descriptor) }
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

    public func setExtendedAttribute(node: NodeID, name: FileName, value: UnsafeRawBufferPointer, flags: Int32) throws(Errno) {
        guard configuration.extendedAttributes else { throw Errno(ENOSYS) }
        defer { prefetcher?.invalidate() }
        try withExtendedAttributeTarget(node) { (path, followsLast) throws(Errno) in
            try name.withCString { (cName) throws(Errno) in
                try SystemCall.setExtendedAttribute(path, followsLast: followsLast, name: cName, value: value, flags: flags)
            }
        }
    }

    public func getExtendedAttribute(node: NodeID, name: FileName, size: Int) throws(Errno) -> ExtendedAttributeReply {
        guard configuration.extendedAttributes else { throw Errno(ENOSYS) }
        return try withExtendedAttributeTarget(node) { (path, followsLast) throws(Errno) -> ExtendedAttributeReply in
            try name.withCString { (cName) throws(Errno) -> ExtendedAttributeReply in
                try Self.sized(size) { (buffer) throws(Errno) -> Int in
                    try SystemCall.getExtendedAttribute(path, followsLast: followsLast, name: cName, into: buffer)
                }
            }
        }
    }

    public func listExtendedAttributes(node: NodeID, size: Int) throws(Errno) -> ExtendedAttributeReply {
        guard configuration.extendedAttributes else { throw Errno(ENOSYS) }
        return try withExtendedAttributeTarget(node) { (path, followsLast) throws(Errno) -> ExtendedAttributeReply in
            try Self.sized(size) { (buffer) throws(Errno) -> Int in
                try SystemCall.listExtendedAttributes(path, followsLast: followsLast, into: buffer)
            }
        }
    }

    public func removeExtendedAttribute(node: NodeID, name: FileName) throws(Errno) {
        guard configuration.extendedAttributes else { throw Errno(ENOSYS) }
        defer { prefetcher?.invalidate() }
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

#if canImport(Glibc)
import Glibc
#endif
import CLinux
import FuseKit

// xattrs act on the node through /proc/self/fd of an O_PATH descriptor we checked is not a symlink:
// following a link there could reach outside the tree, and Linux allows no user.* xattrs on links.
extension PassthroughFileSystem {
    private func withNonLinkNode<R>(_ node: NodeID, onLink linkError: Errno, _ body: (Int32) throws(Errno) -> R) throws(Errno) -> R {
        let open = { () throws(Errno) -> Int32 in
            node == .root ? try SystemCall.duplicate(self.tree.root) : try self.tree.open(node, flags: clinux_O_PATH)
        }
        let descriptor = try open()
        defer { SystemCall.close(descriptor) }
        if FileType(mode: try SystemCall.status(of: descriptor).st_mode) == .symbolicLink { throw linkError }
        return try body(descriptor)
    }

    public func setExtendedAttribute(node: NodeID, name: FileName, value: UnsafeRawBufferPointer, flags: Int32) throws(Errno) {
        try withNonLinkNode(node, onLink: .permission) { (descriptor) throws(Errno) in
            try name.withCString { (cName) throws(Errno) in
                try SystemCall.setExtendedAttribute(descriptor, name: cName, value: value, flags: flags)
            }
        }
    }

    public func getExtendedAttribute(node: NodeID, name: FileName, size: Int) throws(Errno) -> ExtendedAttributeReply {
        try withNonLinkNode(node, onLink: Errno(ENODATA)) { (descriptor) throws(Errno) -> ExtendedAttributeReply in
            try name.withCString { (cName) throws(Errno) -> ExtendedAttributeReply in
                try Self.sized(size) { (buffer) throws(Errno) -> Int in
                    try SystemCall.getExtendedAttribute(descriptor, name: cName, into: buffer)
                }
            }
        }
    }

    public func listExtendedAttributes(node: NodeID, size: Int) throws(Errno) -> ExtendedAttributeReply {
        do {
            return try withNonLinkNode(node, onLink: Errno(ENODATA)) { (descriptor) throws(Errno) -> ExtendedAttributeReply in
                try Self.sized(size) { (buffer) throws(Errno) -> Int in
                    try SystemCall.listExtendedAttributes(descriptor, into: buffer)
                }
            }
        } catch Errno(ENODATA) {
            return size == 0 ? .size(0) : .bytes([])
        }
    }

    public func removeExtendedAttribute(node: NodeID, name: FileName) throws(Errno) {
        try withNonLinkNode(node, onLink: .permission) { (descriptor) throws(Errno) in
            try name.withCString { (cName) throws(Errno) in
                try SystemCall.removeExtendedAttribute(descriptor, name: cName)
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

import Glibc
import CFuse
import FuseKit
import LinuxKit

/// Trampolines for attributes: getattr, setattr, statfs and extended attributes.
enum AttributeOperations {
    static func install(into ops: inout fuse_lowlevel_ops) {
        ops.getattr = { raw, node, fileInfo in
            serve(raw, "getattr") { fs throws(Errno) in
                .attributes(try fs.getAttributes(node: NodeID(node), handle: fileInfo?.pointee.fh))
            }
        }
        ops.setattr = { raw, node, attributes, toSet, fileInfo in
            serve(raw, "setattr") { fs throws(Errno) in
                let changes = FuseEncoding.attributeChanges(attributes!.pointee, toSet: toSet)
                return .attributes(try fs.setAttributes(node: NodeID(node), changes: changes, handle: fileInfo?.pointee.fh,
                                                        caller: Request.caller(raw!)))
            }
        }
        ops.statfs = { raw, node in
            serve(raw, "statfs") { fs throws(Errno) in .statistics(try fs.fileSystemStatistics(node: NodeID(node))) }
        }
        ops.setxattr = { raw, node, name, value, size, flags in
            serve(raw, "setxattr") { fs throws(Errno) in
                try fs.setExtendedAttribute(node: NodeID(node), name: FileName(cString: name!),
                                            value: UnsafeRawBufferPointer(start: value, count: size), flags: flags,
                                            caller: Request.caller(raw!))
                return .ok
            }
        }
        ops.getxattr = { raw, node, name, size in
            serve(raw, "getxattr") { fs throws(Errno) in
                .extendedAttribute(try fs.getExtendedAttribute(node: NodeID(node), name: FileName(cString: name!), size: size))
            }
        }
        ops.listxattr = { raw, node, size in
            serve(raw, "listxattr") { fs throws(Errno) in
                .extendedAttribute(try fs.listExtendedAttributes(node: NodeID(node), size: size))
            }
        }
        ops.removexattr = { raw, node, name in
            serve(raw, "removexattr") { fs throws(Errno) in
                try fs.removeExtendedAttribute(node: NodeID(node), name: FileName(cString: name!))
                return .ok
            }
        }
    }
}

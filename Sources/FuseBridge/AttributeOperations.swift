import Glibc
import CFuse
import FuseKit

/// Trampolines for statfs and extended attributes.
enum AttributeOperations {
    static func install(into ops: inout fuse_lowlevel_ops) {
        ops.statfs = { raw, node in
            serve(raw, "statfs") { fs throws(Errno) in .statistics(try fs.statistics(node: NodeID(node))) }
        }
        ops.setxattr = { raw, node, name, value, size, flags in
            serve(raw, "setxattr") { fs throws(Errno) in
                try fs.setExtendedAttribute(node: NodeID(node), name: FileName(cString: name!),
                                            value: UnsafeRawBufferPointer(start: value, count: size), flags: flags)
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

import Glibc
import CFuse
import FuseKit
import LinuxKit

/// Trampolines for names: lookup and forget, readlink, creating, removing, renaming and linking.
enum NamespaceOperations {
    static func install(into ops: inout fuse_lowlevel_ops) {
        ops.lookup = { raw, parent, name in
            serve(raw, "lookup") { fs throws(Errno) in .entry(try fs.lookup(parent: NodeID(parent), name: FileName(cString: name!))) }
        }
        ops.forget = { raw, node, count in
            serve(raw, "forget") { fs in
                fs.forget(node: NodeID(node), count: count)
                return .none
            }
        }
        ops.forget_multi = { raw, count, forgets in
            serve(raw, "forget_multi") { fs in
                for index in 0..<count {
                    let item = forgets![index]
                    fs.forget(node: NodeID(item.ino), count: item.nlookup)
                }
                return .none
            }
        }
        ops.readlink = { raw, node in
            serve(raw, "readlink") { fs throws(Errno) in .readLink(try fs.readLink(node: NodeID(node))) }
        }
        ops.mknod = { raw, parent, name, mode, device in
            serve(raw, "mknod") { fs throws(Errno) in
                .entry(try fs.makeNode(parent: NodeID(parent), name: FileName(cString: name!), mode: mode, device: device,
                                       caller: Request.caller(raw!)))
            }
        }
        ops.mkdir = { raw, parent, name, mode in
            serve(raw, "mkdir") { fs throws(Errno) in
                .entry(try fs.makeDirectory(parent: NodeID(parent), name: FileName(cString: name!), mode: mode, caller: Request.caller(raw!)))
            }
        }
        ops.unlink = { raw, parent, name in
            serve(raw, "unlink") { fs throws(Errno) in
                try fs.unlink(parent: NodeID(parent), name: FileName(cString: name!))
                return .ok
            }
        }
        ops.rmdir = { raw, parent, name in
            serve(raw, "rmdir") { fs throws(Errno) in
                try fs.removeDirectory(parent: NodeID(parent), name: FileName(cString: name!))
                return .ok
            }
        }
        ops.symlink = { raw, target, parent, name in
            serve(raw, "symlink") { fs throws(Errno) in
                .entry(try fs.symlink(target: FileName(cString: target!).bytes, parent: NodeID(parent),
                                      name: FileName(cString: name!), caller: Request.caller(raw!)))
            }
        }
        ops.rename = { raw, parent, name, newParent, newName, flags in
            serve(raw, "rename") { fs throws(Errno) in
                try fs.rename(parent: NodeID(parent), name: FileName(cString: name!), newParent: NodeID(newParent),
                              newName: FileName(cString: newName!), flags: UInt32(flags))
                return .ok
            }
        }
        ops.link = { raw, node, newParent, newName in
            serve(raw, "link") { fs throws(Errno) in
                .entry(try fs.link(node: NodeID(node), newParent: NodeID(newParent), newName: FileName(cString: newName!)))
            }
        }
    }
}

import Glibc
import CFuse
import FuseKit

/// The libfuse callback table. Each trampoline decodes its arguments, calls the filesystem and
/// replies — no logic lives here.
enum FuseOperations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { userdata, connection in
            guard let userdata, let connection else { return }
            let context = Unmanaged<SessionContext>.fromOpaque(userdata).takeUnretainedValue()
            var settings = ConnectionSettings()
            context.fileSystem.initialize(&settings)
            ConnectionConfigurator.apply(settings, to: connection)
            context.kernelOpensDirectories = connection.pointee.capable & UInt32(FUSE_CAP_NO_OPENDIR_SUPPORT) != 0
        }
        ops.destroy = { userdata in
            guard let userdata else { return }
            Unmanaged<SessionContext>.fromOpaque(userdata).takeUnretainedValue().fileSystem.destroy()
        }
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
        FileOperations.install(into: &ops)
        DirectoryOperations.install(into: &ops)
        AttributeOperations.install(into: &ops)
        return ops
    }
}

extension Request {
    static func caller(_ raw: fuse_req_t) -> Caller {
        let context = fuse_req_ctx(raw)!.pointee
        return Caller(uid: context.uid, gid: context.gid, pid: context.pid, umask: context.umask)
    }
}

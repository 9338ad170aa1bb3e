import Glibc
import CFuse
import FuseKit
import LinuxKit

/// Trampolines for open files: open, create, read, write, flush, release, fsync, fallocate,
/// copy_file_range, lseek and locks.
enum FileOperations {
    static func install(into ops: inout fuse_lowlevel_ops) {
        ops.open = { raw, node, fileInfo in
            serve(raw, "open") { fs throws(Errno) in
                let open = try fs.open(node: NodeID(node), flags: fileInfo!.pointee.flags, caller: Request.caller(raw!))
                return .opened(open, fileInfo!, node: NodeID(node))
            }
        }
        ops.create = { raw, parent, name, mode, fileInfo in
            serve(raw, "create") { fs throws(Errno) in
                let (entry, open) = try fs.create(parent: NodeID(parent), name: FileName(cString: name!), mode: mode,
                                                  flags: fileInfo!.pointee.flags, caller: Request.caller(raw!))
                return .created(entry, open, fileInfo!)
            }
        }
        ops.read = { raw, node, size, offset, fileInfo in
            serve(raw, "read") { fs throws(Errno) in
                .read(try fs.read(node: NodeID(node), handle: fileInfo!.pointee.fh, offset: Int64(offset), size: size))
            }
        }
        ops.write_buf = { raw, node, buffers, offset, fileInfo in
            serve(raw, "write") { fs throws(Errno) in
                let written = try fs.write(node: NodeID(node), handle: fileInfo!.pointee.fh,
                                           fromPageCache: fileInfo!.pointee.writepage != 0,
                                           caller: Request.caller(raw!)) { (descriptor) throws(Errno) -> Int in
                    let written = cfuse_copy_to_fd(buffers, descriptor, offset)
                    if written < 0 { throw Errno(Int32(-written)) }
                    return written
                }
                return .written(written)
            }
        }
        ops.flush = { raw, node, fileInfo in
            serve(raw, "flush") { fs throws(Errno) in
                try fs.flush(node: NodeID(node), handle: fileInfo!.pointee.fh, lockOwner: fileInfo!.pointee.lock_owner)
                return .ok
            }
        }
        ops.release = { raw, node, fileInfo in
            serve(raw, "release") { fs in
                fs.release(node: NodeID(node), handle: fileInfo!.pointee.fh)
                return .ok
            }
        }
        ops.fsync = { raw, node, dataOnly, fileInfo in
            serve(raw, "fsync") { fs throws(Errno) in
                try fs.fsync(node: NodeID(node), handle: fileInfo!.pointee.fh, dataOnly: dataOnly != 0)
                return .ok
            }
        }
        ops.fallocate = { raw, node, mode, offset, length, fileInfo in
            serve(raw, "fallocate") { fs throws(Errno) in
                let modeChanged = try fs.fallocate(node: NodeID(node), handle: fileInfo!.pointee.fh, mode: mode, offset: Int64(offset),
                                                   length: Int64(length), caller: Request.caller(raw!))
                // The kernel keeps its cached mode across fallocate: drop its attributes (only them).
                if modeChanged, let session = SessionContext.from(raw!).session {
                    _ = fuse_lowlevel_notify_inval_inode(session, node, -1, 0)
                }
                return .ok
            }
        }
        ops.copy_file_range = { raw, nodeIn, offsetIn, fileInfoIn, nodeOut, offsetOut, fileInfoOut, length, flags in
            serve(raw, "copy_file_range") { fs throws(Errno) in
                .written(try fs.copyFileRange(from: (NodeID(nodeIn), fileInfoIn!.pointee.fh, Int64(offsetIn)),
                                              to: (NodeID(nodeOut), fileInfoOut!.pointee.fh, Int64(offsetOut)),
                                              length: length, flags: flags, caller: Request.caller(raw!)))
            }
        }
        ops.lseek = { raw, node, offset, whence, fileInfo in
            serve(raw, "lseek") { fs throws(Errno) in
                .offset(try fs.seek(node: NodeID(node), handle: fileInfo!.pointee.fh, offset: Int64(offset), whence: whence))
            }
        }
        ops.getlk = { raw, node, fileInfo, lock in
            serve(raw, "getlk") { fs throws(Errno) in
                .lock(try fs.getLock(node: NodeID(node), handle: fileInfo!.pointee.fh, lock: FuseEncoding.recordLock(lock!.pointee),
                                     owner: fileInfo!.pointee.lock_owner))
            }
        }
        ops.setlk = { raw, node, fileInfo, lock, wait in
            let handle = fileInfo!.pointee.fh, owner = fileInfo!.pointee.lock_owner
            let recordLock = FuseEncoding.recordLock(lock!.pointee)
            WaitingRequests.serve(raw, "setlk", mayWait: wait != 0) { fs, interruption throws(Errno) in
                try fs.setLock(node: NodeID(node), handle: handle, lock: recordLock, owner: owner, wait: interruption)
                return .ok
            }
        }
        ops.flock = { raw, node, fileInfo, operation in
            let handle = fileInfo!.pointee.fh
            WaitingRequests.serve(raw, "flock", mayWait: operation & LOCK_NB == 0) { fs, interruption throws(Errno) in
                try fs.flock(node: NodeID(node), handle: handle, operation: operation & ~LOCK_NB, wait: interruption)
                return .ok
            }
        }
    }
}

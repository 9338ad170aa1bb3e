import Glibc
import CFuse
import FuseKit
import LinuxKit

/// Trampolines for directories: opendir, readdir, readdirplus, releasedir, fsyncdir. Directories
/// have no handles (see `FileSystem.readDirectory`).
enum DirectoryOperations {
    static func install(into ops: inout fuse_lowlevel_ops) {
        ops.opendir = { raw, _, fileInfo in
            guard let raw, let fileInfo else { return }
            if SessionContext.from(raw).kernelOpensDirectories {
                // ENOSYS once: the kernel stops sending OPENDIR and RELEASEDIR for this mount.
                fuse_reply_err(raw, ENOSYS)
            } else {
                // An older kernel: open with handle 0, which readdir does not need.
                fileInfo.pointee.fh = 0
                fuse_reply_open(raw, fileInfo)
            }
        }
        ops.readdir = { raw, node, size, offset, _ in
            DirectoryOperations.readDirectory(raw, node, size, offset, plus: false)
        }
        ops.readdirplus = { raw, node, size, offset, _ in
            DirectoryOperations.readDirectory(raw, node, size, offset, plus: true)
        }
        ops.releasedir = { raw, _, _ in
            serve(raw, "releasedir") { _ in .ok }
        }
        ops.fsyncdir = { raw, node, dataOnly, _ in
            serve(raw, "fsyncdir") { fs throws(Errno) in
                try fs.fsyncDirectory(node: NodeID(node), dataOnly: dataOnly != 0)
                return .ok
            }
        }
    }

    /// Fills one reply buffer; an error after some entries were packed still returns those entries
    /// (the next call reports the error), as the kernel expects.
    static func readDirectory(_ raw: fuse_req_t?, _ node: fuse_ino_t, _ size: Int, _ offset: off_t, plus: Bool) {
        guard let raw else { return }
        let request = Request(raw, plus ? "readdirplus" : "readdir")
        var buffer = DirectoryReplyBuffer(request: raw, capacity: size, plus: plus)
        defer { buffer.deallocate() }
        do throws(Errno) {
            try request.fileSystem.readDirectory(node: NodeID(node), offset: Int64(offset), into: &buffer)
            request.reply(buffer: buffer.bytes)
        } catch {
            if buffer.used > 0 {
                request.reply(buffer: buffer.bytes)
            } else {
                request.reply(error: error)
            }
        }
    }
}

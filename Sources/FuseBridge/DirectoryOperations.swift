#if canImport(Glibc)
import Glibc
#endif
import CFuse
import FuseKit

/// Trampolines for directories: opendir, readdir, readdirplus, releasedir, fsyncdir.
enum DirectoryOperations {
    static func install(into ops: inout fuse_lowlevel_ops) {
        ops.opendir = { raw, node, fileInfo in
            serve(raw, "opendir") { fs throws(Errno) in
                .opened(try fs.openDirectory(node: NodeID(node), flags: fileInfo!.pointee.flags), fileInfo!, node: NodeID(node), isDirectory: true)
            }
        }
        ops.readdir = { raw, node, size, offset, fileInfo in
            DirectoryOperations.readDirectory(raw, node, size, offset, fileInfo, plus: false)
        }
        ops.readdirplus = { raw, node, size, offset, fileInfo in
            DirectoryOperations.readDirectory(raw, node, size, offset, fileInfo, plus: true)
        }
        ops.releasedir = { raw, node, fileInfo in
            serve(raw, "releasedir") { fs in
                fs.releaseDirectory(node: NodeID(node), handle: fileInfo!.pointee.fh)
                return .ok
            }
        }
        ops.fsyncdir = { raw, node, dataOnly, fileInfo in
            serve(raw, "fsyncdir") { fs throws(Errno) in
                try fs.fsyncDirectory(node: NodeID(node), handle: fileInfo!.pointee.fh, dataOnly: dataOnly != 0)
                return .ok
            }
        }
    }

    /// Fills one reply buffer; an error after some entries were packed still returns those entries
    /// (the next call reports the error), as the kernel expects.
    static func readDirectory(_ raw: fuse_req_t?, _ node: fuse_ino_t, _ size: Int, _ offset: off_t,
                                      _ fileInfo: UnsafeMutablePointer<fuse_file_info>?, plus: Bool) {
        guard let raw, let fileInfo else { return }
        let request = Request(raw, plus ? "readdirplus" : "readdir")
        var buffer = DirectoryReplyBuffer(request: raw, capacity: size, plus: plus)
        defer { buffer.deallocate() }
        do throws(Errno) {
            try request.fileSystem.readDirectory(node: NodeID(node), handle: fileInfo.pointee.fh, offset: Int64(offset), into: &buffer)
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

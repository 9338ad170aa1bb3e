import Glibc
import CFuse
import FuseKit
import LinuxKit

/// One FUSE request that must be answered exactly once: each reply consumes it, so a second reply
/// does not compile, and one dropped without a reply answers EIO (and logs) instead of leaving the
/// caller hanging.
struct Request: ~Copyable {
    let raw: fuse_req_t
    let operation: StaticString

    init(_ raw: fuse_req_t, _ operation: StaticString) {
        self.raw = raw
        self.operation = operation
    }

    deinit {
        DaemonLog.error("\(operation): no reply was given; answering EIO")
        fuse_reply_err(raw, EIO)
    }

    var fileSystem: any FileSystem { SessionContext.from(raw).fileSystem }

    /// Gives up this handle without replying: the caller passes the request to a thread that makes
    /// a new `Request` of it and replies there (a lock wait).
    consuming func handOver() -> fuse_req_t {
        let raw = self.raw
        discard self
        return raw
    }

    consuming func reply(error: Errno) {
        fuse_reply_err(raw, error.rawValue)
        discard self
    }

    consuming func replyOK() {
        fuse_reply_err(raw, 0)
        discard self
    }

    consuming func replyNone() {
        fuse_reply_none(raw)
        discard self
    }

    consuming func reply(entry: Entry) {
        var parameters = FuseEncoding.entryParameters(entry)
        fuse_reply_entry(raw, &parameters)
        discard self
    }

    consuming func reply(entry: Entry, open: OpenReply, fileInfo: UnsafeMutablePointer<fuse_file_info>) {
        var parameters = FuseEncoding.entryParameters(entry)
        FuseEncoding.fill(fileInfo, with: open)
        if fuse_reply_create(raw, &parameters, fileInfo) != 0 {
            // The kernel did not take the reply (interrupted): nobody will release this handle.
            fileSystem.release(node: entry.node, handle: open.handle)
            fileSystem.forget(node: entry.node, count: 1)
        }
        discard self
    }

    consuming func reply(attributes: AttributesReply) {
        var status = attributes.attributes.stat
        fuse_reply_attr(raw, &status, attributes.timeout)
        discard self
    }

    consuming func reply(open: OpenReply, fileInfo: UnsafeMutablePointer<fuse_file_info>, node: NodeID) {
        FuseEncoding.fill(fileInfo, with: open)
        if fuse_reply_open(raw, fileInfo) != 0 {
            // The kernel did not take the reply (interrupted): nobody will release this handle.
            fileSystem.release(node: node, handle: open.handle)
        }
        discard self
    }

    consuming func reply(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { fuse_reply_buf(raw, $0.baseAddress, $0.count) }
        }
        discard self
    }

    consuming func reply(buffer: UnsafeRawBufferPointer) {
        fuse_reply_buf(raw, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count)
        discard self
    }

    consuming func reply(read: ReadReply) {
        switch read {
        case let .bytes(bytes):
            reply(bytes: bytes)
        case let .fileRange(descriptor, offset, length):
            let result = cfuse_reply_fd_range(raw, descriptor, off_t(offset), length)
            if result < 0 { DaemonLog.warning("read reply failed: \(Errno(-result))") }
            discard self
        }
    }

    consuming func reply(written count: Int) {
        fuse_reply_write(raw, count)
        discard self
    }

    consuming func reply(readLink target: [UInt8]) {
        var terminated = target
        terminated.append(0)
        terminated.withUnsafeBufferPointer { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { fuse_reply_readlink(raw, $0.baseAddress) }
        }
        discard self
    }

    consuming func reply(statistics: FileSystemStatistics) {
        var status = FuseEncoding.statvfs(statistics)
        fuse_reply_statfs(raw, &status)
        discard self
    }

    consuming func reply(extendedAttribute: ExtendedAttributeReply) {
        switch extendedAttribute {
        case let .size(size):
            fuse_reply_xattr(raw, size)
            discard self
        case let .bytes(bytes):
            reply(bytes: bytes)
        }
    }

    consuming func reply(lock: RecordLock) {
        var description = flock()
        description.l_type = lock.type
        description.l_whence = Int16(SEEK_SET)
        description.l_start = off_t(lock.start)
        description.l_len = off_t(lock.length)
        description.l_pid = lock.pid
        fuse_reply_lock(raw, &description)
        discard self
    }

    consuming func reply(offset: Int64) {
        fuse_reply_lseek(raw, off_t(offset))
        discard self
    }
}

extension Request {
    /// Who sent `raw`: the credentials operations that create or write act with.
    static func caller(_ raw: fuse_req_t) -> Caller {
        let context = fuse_req_ctx(raw)!.pointee
        return Caller(uid: context.uid, gid: context.gid, pid: context.pid, umask: context.umask)
    }
}

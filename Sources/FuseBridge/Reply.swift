import Glibc
import CFuse
import FuseKit
import LinuxKit

/// Every successful answer an operation can give; `Request.send` turns it into the libfuse reply.
enum Reply {
    case ok
    case none
    case entry(Entry)
    case created(Entry, OpenReply, UnsafeMutablePointer<fuse_file_info>)
    case attributes(AttributesReply)
    case opened(OpenReply, UnsafeMutablePointer<fuse_file_info>, node: NodeID)
    case read(ReadReply)
    case written(Int)
    case readLink([UInt8])
    case statistics(FileSystemStatistics)
    case extendedAttribute(ExtendedAttributeReply)
    case lock(RecordLock)
    case offset(Int64)
}

extension Request {
    consuming func send(_ reply: Reply) {
        switch reply {
        case .ok: replyOK()
        case .none: replyNone()
        case let .entry(entry): self.reply(entry: entry)
        case let .created(entry, open, fileInfo): self.reply(entry: entry, open: open, fileInfo: fileInfo)
        case let .attributes(attributes): self.reply(attributes: attributes)
        case let .opened(open, fileInfo, node): self.reply(open: open, fileInfo: fileInfo, node: node)
        case let .read(read): self.reply(read: read)
        case let .written(count): self.reply(written: count)
        case let .readLink(target): self.reply(readLink: target)
        case let .statistics(statistics): self.reply(statistics: statistics)
        case let .extendedAttribute(attribute): self.reply(extendedAttribute: attribute)
        case let .lock(lock): self.reply(lock: lock)
        case let .offset(offset): self.reply(offset: offset)
        }
    }
}

/// Runs one operation and gives exactly one reply: its answer, or the errno it threw.
@inline(__always)
func serve(_ raw: fuse_req_t?, _ operation: StaticString, _ body: (any FileSystem) throws(Errno) -> Reply) {
    guard let raw else { return }
    let request = Request(raw, operation)
    let fileSystem = request.fileSystem
    do throws(Errno) {
        let reply = try body(fileSystem)
        request.send(reply)
    } catch {
        DaemonLog.trace("\(operation): \(error)")
        FailureLog.record(error, operation: operation)
        request.reply(error: error)
    }
}

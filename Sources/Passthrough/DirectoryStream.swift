#if canImport(Glibc)
import Glibc
#endif
import CLinux
import FuseKit

/// An open backing directory read with getdents64. Offsets given to the kernel are the backing
/// filesystem's own d_off cookies, so telldir/seekdir/rewinddir and listings during concurrent
/// changes behave exactly as on the backing filesystem. One request uses it at a time: it is taken
/// from (and parked back in) `DirectoryStreamCache`.
final class DirectoryStream: @unchecked Sendable {
    /// One entry of the current getdents64 batch.
    struct Record {
        var inode: UInt64
        var nextOffset: Int64
        var reportedType: UInt8
        var nameOffset: Int
        var isDotOrDotDot: Bool
    }

    /// lstat results for records `start..<start + statuses.count`, valid during one readdir request
    /// only: a later request would otherwise hand the kernel entries for names removed meanwhile.
    struct Verification {
        var start: Int
        var statuses: [stat]
        var found: [Bool]

        var end: Int { start + statuses.count }

        func covers(_ index: Int) -> Bool { index >= start && index < end }

        func status(at index: Int) -> stat? {
            let offset = index - start
            guard offset >= 0, offset < statuses.count, found[offset] else { return nil }
            return statuses[offset]
        }
    }

    let descriptor: Int32
    let node: NodeID

    private static let bufferSize = 32 * 1024
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var records: [Record] = []
    private(set) var index = 0
    private(set) var position: Int64 = 0
    /// getdents64 said "end" at `position`: the kernel's next call there needs no backing request
    /// (on a share, one round trip per directory listing saved). A seek forgets it.
    private(set) var isAtEnd = false
    var verification: Verification?

    init(descriptor: Int32, node: NodeID) {
        self.descriptor = descriptor
        self.node = node
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        records.reserveCapacity(256)
    }

    deinit {
        buffer.deallocate()
        SystemCall.close(descriptor)
    }

    /// Moves to `offset` (0 or a cookie we handed out) unless we are already there.
    func seek(to offset: Int64) throws(Errno) {
        guard offset != position else { return }
        _ = try SystemCall.seek(descriptor, offset: offset, whence: SEEK_SET)
        discardBatch()
        isAtEnd = false
        position = offset
    }

    /// Makes sure an unconsumed entry is available; false at the end of the directory.
    func fill() throws(Errno) -> Bool {
        if index < records.count { return true }
        if isAtEnd { return false }
        discardBatch()
        let count: Int
        do throws(Errno) {
            count = try SystemCall.readDirectoryEntries(descriptor, into: buffer)
        } catch where error == Errno(ESTALE) {
            // A directory removed while open lists as empty on local filesystems; path-based FUSE
            // backings say ESTALE instead. Answer as a local filesystem would.
            return false
        }
        guard count > 0 else {
            isAtEnd = true
            return false
        }
        var cursor = 0
        var entry = clinux_dirent()
        while true {
            let next = clinux_dirent_at(buffer.baseAddress, count, cursor, &entry)
            if next < 0 { break }
            let nameOffset = UnsafeRawPointer(entry.name) - UnsafeRawPointer(buffer.baseAddress!)
            let first = entry.name[0], second = entry.name[1]
            let dots = first == 0x2E && (second == 0 || (second == 0x2E && entry.name[2] == 0))
            records.append(Record(inode: entry.ino, nextOffset: entry.off, reportedType: entry.type,
                                  nameOffset: nameOffset, isDotOrDotDot: dots))
            cursor = next
        }
        return !records.isEmpty
    }

    var current: Record { records[index] }

    func name(of record: Record) -> UnsafePointer<CChar> {
        (UnsafeRawPointer(buffer.baseAddress!) + record.nameOffset).assumingMemoryBound(to: CChar.self)
    }

    /// The current entry was handed to the kernel: the next call starts after it.
    func advance() {
        position = records[index].nextOffset
        index += 1
    }

    private func discardBatch() {
        records.removeAll(keepingCapacity: true)
        index = 0
        verification = nil
    }
}

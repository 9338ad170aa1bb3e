import Glibc
import CLinux
import FuseKit
import LinuxKit

/// An open backing directory read with getdents64. Offsets given to the kernel are the backing
/// filesystem's own d_off cookies, so telldir/seekdir/rewinddir and listings during concurrent
/// changes behave exactly as on the backing filesystem. One request uses it at a time: it is taken
/// from (and parked back in) `DirectoryStreamCache`. A listing read ahead whole (`readWhole`) holds
/// its entries and their lstats but no descriptor.
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

    /// nil once a listing read whole has closed it.
    private var owned: FileDescriptor?

    /// The open directory; -1 once read whole (never used then: see `isReadWhole`).
    var descriptor: Int32 {
        switch owned {
        case .some(let descriptor): descriptor.rawValue
        case .none: -1
        }
    }
    /// `.none` for a subdirectory read ahead by inode until a listing of its parent gives it a node.
    var node: NodeID

    private static let bufferSize = 32 * 1024
    private var buffer: UnsafeMutableRawBufferPointer
    /// Bytes of `buffer` the current batch fills.
    private var batchBytes = 0
    private(set) var records: [Record] = []
    private(set) var index = 0
    private(set) var position: Int64 = 0
    /// getdents64 said "end" after the records read: the kernel's call after the last of them needs
    /// no backing request (on a share, one round trip per directory listing saved). A seek forgets it.
    private(set) var isAtEnd = false
    var verification: Verification?
    /// When a listing was read whole, and in which epoch of changes through the mount (see
    /// `ListingReadAhead`): what decides whether it, or a link target read with it, may be served.
    struct ReadAheadStamp: Sendable, Equatable {
        var epoch: UInt64
        var readAt: Int64
    }

    /// Set for a listing read whole: whether it may still be served, continued included.
    var readAhead: ReadAheadStamp?
    /// For a listing read whole with `readLinks`: the targets of its links, by record index (set
    /// before the listing is shared, never after).
    private(set) var linkTargets: [Int: [UInt8]] = [:]
    /// For a listing read whole while a walker asks extended attributes: each entry's answers to
    /// the names asked, by record index (set before the listing is shared, never after).
    private(set) var extendedAttributes: [Int: [ExtendedAttributeAnswers.Named]] = [:]

    /// Read whole ahead of its request (`readWhole`): entries and lstats are in memory, no descriptor.
    var isReadWhole: Bool { owned == nil }

    /// Every entry handed out and the end reached.
    var isExhausted: Bool { isAtEnd && index >= records.count }

    init(descriptor: consuming FileDescriptor, node: NodeID) {
        owned = consume descriptor
        self.node = node
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        records.reserveCapacity(256)
    }

    deinit {
        buffer.deallocate()
    }

    /// Reads the whole listing when it fits one batch, then closes the descriptor: false (and
    /// nothing kept) for a bigger directory. `verify`, then `whileOpen`, run between the read and
    /// the close, while the entries can still be reached relative to the directory (their lstats;
    /// `readLinkTargets`, `readExtendedAttributes`).
    func readWhole(verify: (DirectoryStream) -> Verification, whileOpen: (DirectoryStream) -> Void = { _ in }) throws(Errno) -> Bool {
        precondition(position == 0 && records.isEmpty && descriptor >= 0, "readWhole starts a listing")
        if try fill() {
            // One more getdents must say "end"; the kernel would ask for it after the last entry anyway.
            let probe = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
            defer { probe.deallocate() }
            guard try SystemCall.readDirectoryEntries(descriptor, into: probe) == 0 else { return false }
            isAtEnd = true
            verification = verify(self)
            whileOpen(self)
        }
        owned = nil
        // Kept until a walker asks for it, among many: only the memory the entries use (the record
        // array of a live stream reserves room for 256).
        var exact: [Record] = []
        exact.reserveCapacity(records.count)
        exact.append(contentsOf: records)
        records = exact
        let compact = UnsafeMutableRawBufferPointer.allocate(byteCount: max(batchBytes, 1), alignment: 8)
        compact.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[..<batchBytes]))
        buffer.deallocate()
        buffer = compact
        return true
    }

    /// Reads the targets of the entries verified as links (during `readWhole`); `spread` runs the
    /// reads, concurrently once they prove slow. A target whose length is not the size lstat gave
    /// is not kept: the name was replaced in between.
    func readLinkTargets(spread: Spread) {
        linkTargets = readEach(verifiedAs: { $0.st_mode & S_IFMT == S_IFLNK }, spread: spread) { index, status in
            guard let target = try? SystemCall.readLink(in: descriptor, name(of: records[index])),
                  target.count == Int(status.st_size) else { return nil }
            return target
        }
    }

    /// Reads `names` of each entry verified (during `readWhole`) of a type they are wanted for, as
    /// GETXATTR would for the entry's node: never following a link. `spread` runs the entries'
    /// reads, concurrently once they prove slow. An entry whose name reaches another inode
    /// afterwards keeps no answers.
    func readExtendedAttributes(_ names: [ExtendedAttributeAnswers.WantedName], spread: Spread) {
        guard !names.isEmpty else { return }
        let wanted = { (status: stat) in names.contains { $0.types.contains(FileType(mode: status.st_mode)) } }
        extendedAttributes = readEach(verifiedAs: wanted, spread: spread) { index, status in
            let answers = readExtendedAttributes(names, of: records[index], listedAs: status)
            return answers.isEmpty ? nil : answers
        }
    }

    /// Runs a listing's per-entry reads, concurrently once they prove slow (`EntryVerifier.spread`).
    typealias Spread = (Int, (Int) -> Void) -> Void

    /// Runs `read` for each entry (not "." or "..") whose verified status passes `isWanted`,
    /// through `spread`; what it returns, by record index.
    private func readEach<T>(verifiedAs isWanted: (stat) -> Bool, spread: Spread, _ read: (Int, stat) -> T?) -> [Int: T] {
        guard let verification else { return [:] }
        let indices = (verification.start..<verification.end).filter { index in
            guard !records[index].isDotOrDotDot, let status = verification.status(at: index) else { return false }
            return isWanted(status)
        }
        var results = [T?](repeating: nil, count: indices.count)
        withoutActuallyEscaping(read) { read in
            results.withUnsafeMutableBufferPointer { buffer in
                let base = buffer.baseAddress!
                spread(indices.count) { position in
                    let index = indices[position]
                    base[position] = read(index, verification.status(at: index)!)
                }
            }
        }
        var kept: [Int: T] = [:]
        for (position, index) in indices.enumerated() {
            if let result = results[position] { kept[index] = result }
        }
        return kept
    }

    /// One entry's answers, through the /proc magic link of the directory and the entry's name (the
    /// l*xattr form: a final link is not followed); none if the name was replaced meanwhile.
    private func readExtendedAttributes(_ names: [ExtendedAttributeAnswers.WantedName], of record: Record,
                                        listedAs listed: stat) -> [ExtendedAttributeAnswers.Named] {
        let entryName = name(of: record)
        var path = Array("/proc/self/fd/\(descriptor)/".utf8)
        path.append(contentsOf: UnsafeRawBufferPointer(start: entryName, count: strlen(entryName)))
        path.append(0)
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: ExtendedAttributeAnswers.valueLimit, alignment: 1)
        defer { value.deallocate() }
        var answers: [ExtendedAttributeAnswers.Named] = []
        let type = FileType(mode: listed.st_mode)
        for wanted in names where wanted.types.contains(type) {
            let result = Result<Int, Errno> { () throws(Errno) -> Int in
                try SystemCall.withTerminated(path) { (cPath) throws(Errno) -> Int in
                    try SystemCall.withTerminated(wanted.name + [0]) { (cName) throws(Errno) -> Int in
                        try SystemCall.getExtendedAttribute(cPath, followsLast: false, name: cName, into: value)
                    }
                }
            }
            switch result {
            case let .success(count): answers.append((wanted.name, .value([UInt8](value[0..<count]))))
            case .failure(Errno(ERANGE)): continue  // longer than kept: read when asked
            case let .failure(error): answers.append((wanted.name, .failure(error)))
            }
        }
        guard let now = try? SystemCall.identity(in: descriptor, entryName),
              now.inode == UInt64(listed.st_ino), now.device == UInt64(listed.st_dev) else { return [] }
        return answers
    }

    /// The answers read with this listing for the current entry.
    var currentExtendedAttributes: [ExtendedAttributeAnswers.Named]? {
        extendedAttributes.isEmpty ? nil : extendedAttributes[index]
    }

    /// The entries verified as directories, by name (NUL-terminated) and inode: what a walker lists next.
    func subdirectories() -> [(name: [UInt8], key: InodeKey)] {
        guard let verification else { return [] }
        return (verification.start..<verification.end).compactMap { index in
            guard !records[index].isDotOrDotDot, let status = verification.status(at: index),
                  status.st_mode & S_IFMT == S_IFDIR else { return nil }
            let name = name(of: records[index])
            return ([UInt8](UnsafeRawBufferPointer(start: name, count: strlen(name) + 1)), InodeKey(status))
        }
    }

    /// The target read with this listing for the current entry, if it is a link.
    var currentLinkTarget: [UInt8]? { linkTargets.isEmpty ? nil : linkTargets[index] }

    /// Moves to `offset` (0 or a cookie we handed out) unless we are already there.
    func seek(to offset: Int64) throws(Errno) {
        guard offset != position else { return }
        precondition(descriptor >= 0, "a listing read whole is only continued where it stopped")
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
            batchBytes = count
        } catch where error == Errno(ESTALE) {
            // A directory removed while open lists as empty on local filesystems; path-based FUSE
            // backings say ESTALE instead. Answer as a local filesystem would.
            return false
        }
        guard count > 0 else {
            isAtEnd = true
            return false
        }
        let base = UnsafeRawPointer(buffer.baseAddress!)
        for entry in DirectoryEntries(UnsafeRawBufferPointer(rebasing: buffer[..<count])) {
            records.append(Record(inode: entry.inode, nextOffset: entry.nextOffset, reportedType: entry.type,
                                  nameOffset: UnsafeRawPointer(entry.name) - base, isDotOrDotDot: entry.isDotOrDotDot))
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

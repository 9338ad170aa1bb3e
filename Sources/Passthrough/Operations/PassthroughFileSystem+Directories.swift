import Glibc
import CLinux
import FuseKit

// readdir(plus) and fsyncdir: where the d_type policy is applied. Directories have no handles
// (see `FileSystem.readDirectory`); a listing continues through `DirectoryStreamCache`.
extension PassthroughFileSystem {
    public func fsyncDirectory(node: NodeID, dataOnly: Bool) throws(Errno) {
        let descriptor = try tree.open(node, flags: O_RDONLY | O_DIRECTORY)
        defer { SystemCall.close(descriptor) }
        try SystemCall.synchronize(descriptor, dataOnly: dataOnly)
    }

    public func readDirectory<Sink: DirectorySink>(node: NodeID, offset: Int64, into sink: inout Sink) throws(Errno) {
        let stream: DirectoryStream
        var readAhead = false
        switch listings.take(node: node, position: offset) {
        case .end?:
            return
        case let .stream(parked)? where !parked.isReadWhole || prefetcher?.isFresh(parked.readAhead) == true:
            stream = parked
        case .stream?, nil:
            // A listing read ahead that went stale while parked is continued live instead: another
            // listing of this directory may be the one continuing at this offset.
            if offset == 0, let ready = prefetcher?.take(node) {
                stream = ready
                readAhead = true
            } else {
                guard let live = try openStream(node, at: offset) else { return }
                stream = live
            }
        }
        var tally = Tally()
        defer { statistics.record(listed: tally.listed, corrected: tally.corrected, unverifiable: tally.unverifiable) }
        // A live listing's lstats serve one request; a listing read whole keeps those it was read with.
        if !stream.isReadWhole { stream.verification = nil }
        while try stream.fill() {
            if configuration.dtype == .verify, stream.verification?.covers(stream.index) != true {
                stream.verification = verifier.verify(stream, count: sink.remainingCapacityHint)
            }
            guard add(stream: stream, to: &sink, tally: &tally) else { break }
            if let node = tally.lastNode, stream.currentLinkTarget != nil { prefetcher?.keepLinkTarget(of: node, from: stream) }
            stream.advance()
        }
        listings.park(stream)
        prefetcher?.listed(node, subdirectories: tally.subdirectories, wasReadAhead: readAhead)
    }

    /// A live stream at `offset`; nil when the directory is gone.
    private func openStream(_ node: NodeID, at offset: Int64) throws(Errno) -> DirectoryStream? {
        let descriptor: Int32
        do throws(Errno) {
            descriptor = try tree.open(node, flags: O_RDONLY | O_DIRECTORY)
        } catch where error == .noEntry {
            // Removed since the kernel opened it: an open directory removed meanwhile lists as empty.
            return nil
        }
        let stream = DirectoryStream(descriptor: descriptor, node: node)
        try stream.seek(to: offset)
        return stream
    }

    /// A directory's listing read whole and verified (with its links' targets if `readLinks`), for
    /// `ListingPrefetcher`: nil when it is gone, is no longer the inode it was listed as, or is
    /// bigger than one batch (a big directory costs its own listing more than the wait for it).
    static func readWholeListing(of job: ListingPrefetcher.Job, readLinks: Bool, tree: BackingTree,
                                 verifier: EntryVerifier) -> DirectoryStream? {
        let stream: DirectoryStream
        switch job {
        case let .node(node):
            guard let descriptor = try? tree.open(node, flags: O_RDONLY | O_DIRECTORY) else { return nil }
            stream = DirectoryStream(descriptor: descriptor, node: node)
        case let .child(parent, name, key):
            guard let descriptor = try? tree.withDirectory(parent, { (directory) throws(Errno) -> Int32 in
                try SystemCall.withTerminated(name) { (cName) throws(Errno) -> Int32 in
                    try SystemCall.open(in: directory, cName, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                }
            }) else { return nil }
            stream = DirectoryStream(descriptor: descriptor, node: .none)
            guard let identity = try? SystemCall.identity(of: descriptor), tree.nodes.isSameObject(identity, as: key) else { return nil }
        }
        let whole = try? stream.readWhole(readLinks: readLinks) { stream in verifier.verify(stream, count: stream.records.count) }
        return whole == true ? stream : nil
    }

    /// Looks up, beneath the root, where the relative targets of a listing's links lead, once the
    /// listing is kept: the walker following those links looks the same names up right after, and
    /// on a share (or any cold backing) it then finds them cached instead of waiting for each.
    /// Never outside the root: see `LinkTargetPath` and `BackingTree.lookUp`.
    static func lookUpLinkTargets(of stream: DirectoryStream, listedAs job: ListingPrefetcher.Job,
                                  tree: BackingTree, statistics: ListingStatistics) {
        let directory = switch job {
        case let .node(node): tree.nodes.path(of: node)
        case let .child(parent, name, _): tree.nodes.path(of: parent).flatMap { LinkTargetPath.beneathRoot(directory: $0, target: name) }
        }
        guard let directory else { return }
        var resolved = 0
        for target in stream.linkTargets.values {
            if let path = LinkTargetPath.beneathRoot(directory: directory, target: target), tree.lookUp(path) { resolved += 1 }
        }
        statistics.recordLinkTargetPaths(resolved: resolved)
    }

    /// Counts of one readdir call, recorded once at its end.
    struct Tally {
        var listed = 0
        var unverifiable = 0
        var corrected: [FileType: Int] = [:]
        /// Directories listed with a node, and the inode they were listed as: what a walker lists next.
        var subdirectories: [(node: NodeID, key: InodeKey)] = []
        /// The node the last entry was listed with, if any.
        var lastNode: NodeID?
    }

    /// Adds the stream's current entry to `sink`; false when it did not fit.
    private func add<Sink: DirectorySink>(stream: DirectoryStream, to sink: inout Sink, tally: inout Tally) -> Bool {
        let record = stream.current
        let name = stream.name(of: record)
        let reported = FileType(directoryEntryType: record.reportedType)
        switch configuration.dtype {
        case .unknown:
            guard sink.add(name: name, inode: record.inode, type: .unknown, nextOffset: record.nextOffset) else { return false }
        case .passthrough:
            guard sink.add(name: name, inode: record.inode, type: reported, nextOffset: record.nextOffset) else { return false }
        case .verify:
            // "." and ".." are directories by definition; the root's ".." is outside the tree.
            let verified: stat? = record.isDotOrDotDot ? nil : stream.verification?.status(at: stream.index)
            let type = record.isDotOrDotDot ? .directory : verified.map { FileType(mode: $0.st_mode) } ?? .unknown
            if sink.wantsAttributes {
                guard let node = addWithAttributes(record: record, name: name, verified: verified, type: type,
                                                   followedNext: stream.currentLinkTarget != nil, directory: stream.node,
                                                   to: &sink, subdirectories: &tally.subdirectories) else {
                    return false
                }
                tally.lastNode = node == .none ? nil : node
            } else {
                guard sink.add(name: name, inode: record.inode, type: type, nextOffset: record.nextOffset) else { return false }
            }
            if !record.isDotOrDotDot {
                if verified == nil {
                    tally.unverifiable += 1
                } else if reported != .unknown, reported != type {
                    tally.corrected[type, default: 0] += 1
                }
            }
        }
        tally.listed += 1
        return true
    }

    /// A READDIRPLUS entry: verified attributes and a node (one lookup), or, when lstat failed, the
    /// name alone with node 0 and mode 0, which the kernel lists as DT_UNKNOWN. Returns the node
    /// listed (`.none` for none), nil when the entry did not fit. `followedNext`: a link whose
    /// target was read with the listing, because the walker is following links.
    private func addWithAttributes<Sink: DirectorySink>(record: DirectoryStream.Record, name: UnsafePointer<CChar>, verified: stat?,
                                                        type: FileType, followedNext: Bool, directory: NodeID, to sink: inout Sink,
                                                        subdirectories: inout [(node: NodeID, key: InodeKey)]) -> NodeID? {
        guard let verified else {
            var placeholder = stat()
            placeholder.st_ino = UInt(record.inode)
            placeholder.st_mode = mode_t(type.rawValue) << 12
            let entry = Entry(node: .none, attributes: Attributes(placeholder), entryTimeout: 0, attributeTimeout: 0)
            return sink.add(name: name, entry: entry, nextOffset: record.nextOffset) ? NodeID.none : nil
        }
        if type != .directory, !followedNext, tree.nodes.count >= configuration.listedNodeBudget {
            // Listed with its verified type but without an inode: memory stays bounded on huge trees.
            // Directories and links about to be followed get one anyway: the walker looks them up next.
            let entry = Entry(node: .none, attributes: Attributes(verified), entryTimeout: 0, attributeTimeout: 0)
            return sink.add(name: name, entry: entry, nextOffset: record.nextOffset) ? NodeID.none : nil
        }
        let nameBytes = [UInt8](UnsafeRawBufferPointer(start: name, count: strlen(name)))
        let key = InodeKey(verified)
        let node = tree.nodes.remember(parent: directory, name: nameBytes, key: key)
        guard sink.add(name: name, entry: entry(for: node, verified), nextOffset: record.nextOffset) else {
            tree.nodes.forget(node, count: 1)
            return nil
        }
        if type == .directory { subdirectories.append((node, key)) }
        return node
    }
}

import Glibc
import CLinux
import FuseKit
import LinuxKit

// readdir(plus) and fsyncdir, as FuseBridge's DirectoryOperations: where the d_type policy is
// applied to each entry. Streams, verification and read-ahead are the `Listings` pipeline's.
extension PassthroughFileSystem {
    public func fsyncDirectory(node: NodeID, dataOnly: Bool) throws(Errno) {
        let descriptor = try tree.open(node, flags: O_RDONLY | O_DIRECTORY)
        try SystemCall.synchronize(descriptor.rawValue, dataOnly: dataOnly)
    }

    public func readDirectory<Sink: DirectorySink>(node: NodeID, offset: Int64, into sink: inout Sink) throws(Errno) {
        try listings.read(node, at: offset, into: &sink) { stream, sink, tally in add(stream: stream, to: &sink, tally: &tally) }
    }

    /// Adds the stream's current entry to `sink`; false when it did not fit.
    private func add<Sink: DirectorySink>(stream: DirectoryStream, to sink: inout Sink, tally: inout Listings.Tally) -> Bool {
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
            let entry = Entry(node: .none, attributes: Attributes(placeholder), entryTimeout: 0, attrTimeout: 0)
            return sink.add(name: name, entry: entry, nextOffset: record.nextOffset) ? NodeID.none : nil
        }
        if type != .directory, !followedNext, tree.nodes.count >= configuration.listedNodeBudget {
            // Listed with its verified type but without an inode: memory stays bounded on huge trees.
            // Directories and links about to be followed get one anyway: the walker looks them up next.
            let entry = Entry(node: .none, attributes: Attributes(verified), entryTimeout: 0, attrTimeout: 0)
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

import Glibc
import FuseKit
import LinuxKit

/// The listing pipeline behind one face. The filesystem asks it to read a listing into a sink
/// (deciding itself how each entry is added), for a link target read with a listing, and tells it
/// when something changed through the mount. Data flows one way: source → stream → verifier →
/// the filesystem's `add` → sink; read-ahead only feeds streams in at the front.
///
/// What it owns and when each part is built:
/// - parked streams (`DirectoryStreamCache`): always; a listing continues where it stopped;
/// - the verifier (`EntryVerifier`): used with `dtype=verify` only;
/// - read-ahead (`ListingReadAhead`, with its `LinkTargetCache` and `ExtendedAttributeAnswers`):
///   only with `dtype=verify`,
///   `readahead_listings` > 0 and `attr_timeout` > 0 (a listing read ahead is served only while
///   younger than attr_timeout). It is fed by READDIRPLUS listings only: they give subdirectories
///   nodes, the names a walker's next READDIR arrives with; a plain READDIR creates none.
final class Listings: Sendable {
    let statistics = ListingStatistics()
    private let source: any ListingSource
    private let parked = DirectoryStreamCache()
    private let verifier: EntryVerifier?
    private let readAhead: ListingReadAhead?

    init(source: any ListingSource, configuration: PassthroughConfiguration) {
        self.source = source
        let verifies = configuration.dtype == .verify
        verifier = verifies ? EntryVerifier(verifyThreads: configuration.verifyThreads) : nil
        guard let verifier, configuration.readaheadListings > 0, configuration.attrTimeout > 0 else {
            readAhead = nil
            return
        }
        let statistics = self.statistics
        readAhead = ListingReadAhead(readaheadListings: configuration.readaheadListings,
                                     maximumAge: Int64(configuration.attrTimeout * 1e9), statistics: statistics,
                                     load: { job, along in Self.readWhole(job, along: along, source: source, verifier: verifier) },
                                     afterLinksRead: { job, stream in
                                         Self.lookUpLinkTargets(of: stream, listedAs: job, source: source, statistics: statistics)
                                     })
    }

    /// Counts of one READDIR request, kept by the filesystem's `add` and recorded at its end.
    struct Tally {
        var listed = 0
        var unverifiable = 0
        var corrected: [FileType: Int] = [:]
        /// Directories listed with a node, and the inode they were listed as: what a walker lists next.
        var subdirectories: [(node: NodeID, key: InodeKey)] = []
        /// The node the last entry was listed with, if any.
        var lastNode: NodeID?
    }

    /// Adds the stream's current entry to the sink; false when it did not fit.
    typealias Add<Sink: DirectorySink> = (DirectoryStream, inout Sink, inout Tally) -> Bool

    /// Reads `node`'s listing from `offset` into `sink`, verified (with `dtype=verify`) a batch at a
    /// time, until the sink is full or the listing ends; what is left is parked for the next request.
    func read<Sink: DirectorySink>(_ node: NodeID, at offset: Int64, into sink: inout Sink, add: Add<Sink>) throws(Errno) {
        guard let (stream, wasReadAhead) = try stream(of: node, at: offset) else { return }
        var tally = Tally()
        defer { statistics.record(listed: tally.listed, corrected: tally.corrected, unverifiable: tally.unverifiable) }
        // A live listing's lstats serve one request; a listing read whole keeps those it was read with.
        if !stream.isReadWhole { stream.verification = nil }
        while try stream.fill() {
            if let verifier, stream.verification?.covers(stream.index) != true {
                stream.verification = verifier.verify(stream, count: sink.remainingCapacityHint)
            }
            guard add(stream, &sink, &tally) else { break }
            if let node = tally.lastNode, let readAhead {
                if stream.currentLinkTarget != nil { readAhead.keepLinkTarget(of: node, from: stream) }
                if stream.currentExtendedAttributes != nil { readAhead.keepExtendedAttributes(of: node, from: stream) }
            }
            stream.advance()
        }
        parked.park(stream)
        if sink.wantsAttributes {
            readAhead?.listed(node, subdirectories: tally.subdirectories, wasReadAhead: wasReadAhead)
        }
    }

    /// The target of the link `node`, if it was read with a listing and is still fresh. Asking
    /// tells read-ahead that links are being followed.
    func linkTarget(of node: NodeID) -> [UInt8]? {
        readAhead?.linkTarget(of: node)
    }

    /// The answer to `name` of `node` (of `type`) read with a listing, if still fresh. Asking tells
    /// read-ahead that a walker asks extended attributes.
    func extendedAttribute(of node: NodeID, named name: [UInt8], type: FileType) -> ExtendedAttributeAnswers.Answer? {
        readAhead?.extendedAttribute(of: node, named: name, type: type)
    }

    /// Something changed through the mount: nothing read ahead before now is served.
    func changed() {
        readAhead?.invalidate()
    }

    /// Ends the pipeline's threads and closes parked descriptors (unmount).
    func stop() {
        readAhead?.stop()
        verifier?.stop()
        parked.stop()
    }

    /// The stream that serves a request at `offset`: a parked one continuing there, a listing read
    /// ahead (offset 0), or a live one; nil when the listing already ended there or the directory is gone.
    private func stream(of node: NodeID, at offset: Int64) throws(Errno) -> (DirectoryStream, wasReadAhead: Bool)? {
        switch parked.take(node: node, position: offset) {
        case .end?:
            return nil
        case let .stream(stream)? where !stream.isReadWhole || readAhead?.isFresh(stream.readAhead) == true:
            return (stream, false)
        case .stream?, nil:
            // A listing read ahead that went stale while parked is continued live instead: another
            // listing of this directory may be the one continuing at this offset.
            if offset == 0, let ready = readAhead?.take(node) { return (ready, true) }
            let descriptor: FileDescriptor
            do throws(Errno) {
                descriptor = try source.openDirectory(node)
            } catch where error == .noEntry {
                // Removed since the kernel opened it: an open directory removed meanwhile lists as empty.
                return nil
            }
            let stream = DirectoryStream(descriptor: descriptor, node: node)
            try stream.seek(to: offset)
            return (stream, false)
        }
    }

    /// A directory's listing read whole and verified (with what `along` asks), for read-ahead: nil
    /// when it is gone, is no longer the inode it was listed as, or is bigger than one batch (a big
    /// directory costs its own listing more than the wait for it).
    private static func readWhole(_ job: ListingReadAhead.Job, along: ListingReadAhead.ReadAlong, source: any ListingSource,
                                  verifier: EntryVerifier) -> DirectoryStream? {
        let stream: DirectoryStream
        switch job {
        case let .node(node):
            guard let descriptor = try? source.openDirectory(node) else { return nil }
            stream = DirectoryStream(descriptor: descriptor, node: node)
        case let .child(parent, path, key):
            guard let descriptor = source.openSubdirectory(of: parent, at: path, ifStill: key) else { return nil }
            stream = DirectoryStream(descriptor: descriptor, node: .none)
        }
        let whole = try? stream.readWhole(verify: { stream in verifier.verify(stream, count: stream.records.count) }) { stream in
            if along.linkTargets { stream.readLinkTargets(spread: verifier.spread) }
            stream.readExtendedAttributes(along.extendedAttributeNames, spread: verifier.spread)
        }
        return whole == true ? stream : nil
    }

    /// Looks up, beneath the root, where the relative targets of a listing's links lead, once the
    /// listing is kept: the walker following those links looks the same names up right after, and
    /// on a share (or any cold backing) it then finds them cached instead of waiting for each.
    /// Never outside the root: see `LinkTargetPath` and `BackingTree.lookUp`.
    private static func lookUpLinkTargets(of stream: DirectoryStream, listedAs job: ListingReadAhead.Job,
                                          source: any ListingSource, statistics: ListingStatistics) {
        let directory = switch job {
        case let .node(node): source.path(of: node)
        case let .child(parent, path, _): source.path(of: parent).flatMap { LinkTargetPath.beneathRoot(directory: $0, target: path) }
        }
        guard let directory else { return }
        var resolved = 0
        for target in stream.linkTargets.values {
            if let path = LinkTargetPath.beneathRoot(directory: directory, target: target), source.lookUp(path) { resolved += 1 }
        }
        statistics.recordLinkTargetPaths(resolved: resolved)
    }
}

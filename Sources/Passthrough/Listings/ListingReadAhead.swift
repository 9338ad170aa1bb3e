import Glibc
import FuseKit
import Synchronization
import LinuxKit

/// Reads listings ahead of a tree walk. A walker (os.walk, find, du, ls -R) lists a directory, then
/// each of its subdirectories, one after another: on a share every listing and every lstat that
/// verifies it is a round trip the walker waits for. When a walk is under way, the subdirectories a
/// listing announces are read whole and verified in the background, a few at a time, so the
/// walker's request for one is answered from memory.
///
/// Freshness: a listing read ahead is served only while it is younger than `maximumAge` (the
/// attribute timeout, so a walk sees changes made behind the mount no later than the kernel's
/// caches would let it), and only if nothing was changed through the mount since it was read
/// (`invalidate`), so a program always lists what it just created, renamed or removed.
///
/// Bounded: at most `entryCapacity` entries kept in listings read ahead (each without a descriptor;
/// about 200 bytes an entry), `queueLimit` waiting to be read, `concurrency` being read.
///
/// A depth-first walker lists a subdirectory right after its parent, and goes down faster than
/// listings one or two levels ahead could be read: so each listing read ahead also queues its own
/// subdirectories, by their inode and their path from the nearest directory the kernel knows (a
/// node), down to any depth while half the entry capacity is free and the listings kept do not
/// age unused (further ahead, they would push out listings the walker needs sooner, or go stale
/// before it comes). When the walker lists their parent, that listing adopts them under their
/// nodes (`listed`).
///
/// While a walker follows links, the listings also read their links' targets (`linkTargets`), and
/// then `afterLinksRead` runs (the file system looks up where they lead). While a walker asks
/// extended attributes, they read each entry's answers to the names asked (`extendedAttributes`).
final class ListingReadAhead: Sendable {
    /// What a reader reads: a directory the kernel knows, or a subdirectory of a listing read ahead,
    /// by the nearest directory above it that has a node, its path from there and its inode.
    enum Job: Sendable {
        case node(NodeID)
        /// `path`: names from getdents joined by "/" (never "." or ".."), NUL-terminated.
        case child(parent: NodeID, path: [UInt8], key: InodeKey)

        var listing: ListingKey {
            switch self {
            case let .node(node): .node(node)
            case let .child(_, _, key): .directory(key)
            }
        }
    }

    /// How a listing read ahead is found: by node, or by inode until its parent's listing gives it one.
    enum ListingKey: Hashable, Sendable {
        case node(NodeID)
        case directory(InodeKey)
    }

    /// What a listing read ahead reads besides its entries and their lstats.
    struct ReadAlong: Sendable {
        var linkTargets = false
        /// Each entry's answers to these extended attribute names.
        var extendedAttributeNames: [ExtendedAttributeAnswers.WantedName] = []
    }

    /// Reads one directory's listing whole and verified, with what `ReadAlong` asks; nil when it
    /// cannot or should not be kept.
    typealias Load = @Sendable (Job, ReadAlong) -> DirectoryStream?
    /// Runs after a listing read with its links' targets is kept (so a request waiting for it is
    /// not kept waiting too): the work those targets call for before the walker follows them.
    typealias AfterLinksRead = @Sendable (Job, DirectoryStream) -> Void

    /// A listing being read: a request for it waits for it rather than reading it a second time.
    private final class Flight: Sendable {
        let landed = WaitableState(false)
    }

    private struct State: ~Copyable {
        /// Listings read, the oldest dropped first.
        var ready = OldestFirstDictionary<ListingKey, DirectoryStream>()
        /// Entries in `ready`'s listings.
        var readyEntries = 0
        var reading: [ListingKey: Flight] = [:]
        /// Subdirectories being read by inode that a listing gave a node meanwhile: kept under it.
        var adopted: [InodeKey: NodeID] = [:]
        /// Next to read, soonest first.
        var pending: [Job] = []
        var readersStarted = false
        /// `stop` was called: readers exit, nothing more is queued.
        var stopping = false
        /// Reader threads alive.
        var readers = 0
        /// Subdirectories listings announced lately, and when: listing one of them means a walk.
        var announced = OldestFirstDictionary<NodeID, Int64>()
    }

    /// Only readers sleep on it (until `pending` has a job): each job queued wakes one.
    private let state = WaitableState(State())
    private let epoch = Atomic<UInt64>(0)
    private let load: Load
    private let afterLinksRead: AfterLinksRead?
    private let statistics: ListingStatistics
    let entryCapacity: Int
    let queueLimit: Int
    /// Listings read at once: the `readahead_listings` option.
    let readaheadListings: Int
    let maximumAge: Int64
    /// Targets read with the listings, for the READLINKs of a walker that follows links.
    let linkTargets: LinkTargetCache
    /// Answers read with the listings, for the GETXATTRs of a walker that asks them entry by entry.
    let extendedAttributes: ExtendedAttributeAnswers

    /// How many announced subdirectories are remembered (a node ID and a time each).
    private static let announcedLimit = 4096

    /// `maximumAge` in nanoseconds.
    init(entryCapacity: Int = 4_096, queueLimit: Int = 64, readaheadListings: Int = 4, maximumAge: Int64,
         statistics: ListingStatistics, load: @escaping Load, afterLinksRead: AfterLinksRead? = nil) {
        self.statistics = statistics
        self.entryCapacity = max(1, entryCapacity)
        self.queueLimit = max(1, queueLimit)
        self.readaheadListings = max(1, readaheadListings)
        self.maximumAge = maximumAge
        linkTargets = LinkTargetCache(capacity: self.entryCapacity, followWindow: 2 * maximumAge)
        extendedAttributes = ExtendedAttributeAnswers(capacity: 2 * self.entryCapacity, askWindow: 2 * maximumAge)
        self.load = load
        self.afterLinksRead = afterLinksRead
    }

    /// Something changed through the mount: every listing read so far may be out of date.
    func invalidate() {
        epoch.add(1, ordering: .sequentiallyConsistent)
    }

    /// The listing of `node` read ahead, if still fresh; removed (the caller owns it now). One being
    /// read is waited for. A miss also drops `node` from the queue: the caller lists it itself.
    func take(_ node: NodeID) -> DirectoryStream? {
        var found = takeReady(node)
        var waited: Int64 = 0
        if case let .reading(flight) = found {
            let began = SystemCall.monotonicNanoseconds()
            flight.landed.wait(until: { $0 }, then: { _ in })
            waited = SystemCall.monotonicNanoseconds() - began
            found = takeReady(node)
        }
        guard case let .ready(listing) = found, isFresh(listing.readAhead) else { return nil }
        statistics.recordReadAheadUsed(waited: waited)
        return listing
    }

    private enum Lookup {
        case ready(DirectoryStream)
        case reading(Flight)
        case none
    }

    /// Whether what a listing read ahead holds may still be served: also asked when one parked
    /// after a partial reply is continued, possibly by another listing of the same directory, and
    /// for a link target read with it.
    func isFresh(_ stamp: DirectoryStream.ReadAheadStamp?) -> Bool {
        guard let stamp else { return false }
        return stamp.epoch == epoch.load(ordering: .sequentiallyConsistent)
            && SystemCall.monotonicNanoseconds() - stamp.readAt < maximumAge
    }

    /// The target of the link `node` read with a listing, if it is kept and still fresh. Any
    /// READLINK means links are being followed: listings read ahead read their targets too.
    func linkTarget(of node: NodeID) -> [UInt8]? {
        linkTargets.followed()
        guard let (target, stamp) = linkTargets.take(node), isFresh(stamp) else { return nil }
        statistics.recordLinkTarget(used: true)
        return target
    }

    /// `stream`, a listing read ahead, listed the link `node`: its target is kept for a READLINK.
    func keepLinkTarget(of node: NodeID, from stream: DirectoryStream) {
        guard let target = stream.currentLinkTarget, let stamp = stream.readAhead else { return }
        linkTargets.keep(target, for: node, stamp: stamp)
        statistics.recordLinkTarget(used: false)
    }

    /// The answer to `name` of `node` (of `type`) read with a listing, if it is kept and still fresh.
    /// Any GETXATTR means a walker may ask the next entries too: listings read ahead read that name.
    func extendedAttribute(of node: NodeID, named name: [UInt8], type: FileType) -> ExtendedAttributeAnswers.Answer? {
        extendedAttributes.asked(name, of: type)
        guard let (answer, stamp) = extendedAttributes.take(node, name: name), isFresh(stamp) else { return nil }
        statistics.recordExtendedAttributeUsed()
        return answer
    }

    /// `stream`, a listing read ahead, listed `node`: the answers read for it are kept for GETXATTRs.
    func keepExtendedAttributes(of node: NodeID, from stream: DirectoryStream) {
        guard let answers = stream.currentExtendedAttributes, let stamp = stream.readAhead else { return }
        extendedAttributes.keep(answers, for: node, stamp: stamp)
        statistics.recordExtendedAttributes(read: answers.count)
    }

    /// Removes `node`'s listing read ahead (fresh or not: the caller judges), or names the read
    /// under way; a miss drops `node` from the queue.
    private func takeReady(_ node: NodeID) -> Lookup {
        state.withLock { state -> Lookup in
            guard let ready = state.ready.removeValue(forKey: .node(node)) else {
                if let flight = state.reading[.node(node)] { return .reading(flight) }
                if let index = state.pending.firstIndex(where: { $0.listing == .node(node) }) { state.pending.remove(at: index) }
                return .none
            }
            state.readyEntries -= ready.records.count
            return .ready(ready)
        }
    }

    /// `directory` is being listed and announced `subdirectories` (with the inodes they were listed
    /// with). If `directory` was itself announced lately (or read ahead), a walk is under way: its
    /// subdirectories are read ahead, or adopted where they were read by inode already.
    func listed(_ directory: NodeID, subdirectories: [(node: NodeID, key: InodeKey)], wasReadAhead: Bool) {
        guard !subdirectories.isEmpty else { return }
        let now = SystemCall.monotonicNanoseconds()
        let (queued, startReaders) = state.withLock { state -> (Int, Bool) in
            let walking = wasReadAhead || state.announced[directory].map { now - $0 < 2 * maximumAge } == true
            for (subdirectory, _) in subdirectories { state.announced.updateValue(now, forKey: subdirectory) }
            while state.announced.count > Self.announcedLimit { _ = state.announced.removeOldest() }
            guard walking, !state.stopping else { return (0, false) }
            // In listing order, as a depth-first walker goes: for each subdirectory, its listing,
            // or (read by inode already) its own subdirectories'.
            var jobs: [Job] = []
            for (node, key) in subdirectories {
                let listing = ListingKey.node(node)
                state.pending.removeAll { $0.listing == .directory(key) }
                if let ready = state.ready.removeValue(forKey: .directory(key)) {
                    ready.node = node
                    state.readyEntries -= ready.records.count
                    Self.store(ready, as: listing, in: &state)
                    jobs += Self.childJobs(of: ready, under: .node(node), in: &state)
                } else if let flight = state.reading[.directory(key)] {
                    state.adopted[key] = node
                    state.reading[listing] = flight
                } else if state.ready[listing] == nil, state.reading[listing] == nil,
                          !state.pending.contains(where: { $0.listing == listing }) {
                    jobs.append(.node(node))
                }
            }
            let queued = Self.enqueue(jobs, in: &state, limit: queueLimit)
            let startReaders = !state.readersStarted
            state.readersStarted = true
            if startReaders { state.readers = readaheadListings }
            return (queued, startReaders)
        }
        if startReaders { startReaderThreads() }
        state.wake(queued)
    }

    /// Reader threads alive (0 before a walk, and again soon after `stop`).
    var readerThreads: Int { state.withLock { $0.readers } }

    /// Ends the reader threads once they finish the listing in hand (unmount); drops what was read.
    func stop() {
        state.change { state in
            state.stopping = true
            state.pending.removeAll()
            while state.ready.removeOldest() != nil {}
            state.readyEntries = 0
        }
    }

    /// Puts `jobs` first in the queue, newest announcements being the soonest listed, and drops
    /// the oldest beyond `limit`; returns how many were queued.
    private static func enqueue(_ jobs: [Job], in state: inout State, limit: Int) -> Int {
        guard !jobs.isEmpty else { return 0 }
        let added = Array(jobs.prefix(limit))
        let keys = Set(added.map(\.listing))
        state.pending.removeAll { keys.contains($0.listing) }
        state.pending.insert(contentsOf: added, at: 0)
        if state.pending.count > limit { state.pending.removeLast(state.pending.count - limit) }
        return added.count
    }

    /// Jobs reading the subdirectories of `stream`, a listing read ahead as `job`, by inode.
    private static func childJobs(of stream: DirectoryStream, under job: Job, in state: inout State) -> [Job] {
        let (parent, prefix): (NodeID, ArraySlice<UInt8>) = switch job {
        case let .node(node): (node, [])
        case let .child(parent, path, _): (parent, path.dropLast() + [UInt8(ascii: "/")])
        }
        return stream.subdirectories().compactMap { (name, key) -> Job? in
            let listing = ListingKey.directory(key)
            guard state.ready[listing] == nil, state.reading[listing] == nil else { return nil }
            return .child(parent: parent, path: Array(prefix + name), key: key)
        }
    }

    /// Keeps `stream` as `listing`, dropping the oldest listings beyond the entry capacity.
    private static func store(_ stream: DirectoryStream, as listing: ListingKey, in state: inout State) {
        if let old = state.ready.updateValue(stream, forKey: listing) {
            state.readyEntries -= old.records.count
        }
        state.readyEntries += stream.records.count
    }

    /// Own threads (see `DetachedThread`); each keeps the read-ahead alive until `stop`.
    private func startReaderThreads() {
        for _ in 0..<readaheadListings {
            DetachedThread.start(stackSize: 256 * 1024) { self.run() }
        }
    }

    /// A reader: takes the next queued listing and reads it, until `stop`.
    private func run() {
        while true {
            let next = state.wait(until: { !$0.pending.isEmpty || $0.stopping }) { state -> (Job, Flight)? in
                guard !state.stopping else { return nil }
                let job = state.pending.removeFirst()
                let flight = Flight()
                state.reading[job.listing] = flight
                return (job, flight)
            }
            guard let (job, flight) = next else {
                state.change { $0.readers -= 1 }
                return
            }
            let started = epoch.load(ordering: .sequentiallyConsistent)
            let readAt = SystemCall.monotonicNanoseconds()
            let along = ReadAlong(linkTargets: linkTargets.isWanted(), extendedAttributeNames: extendedAttributes.wantedNames())
            let stream = load(job, along)
            stream?.readAhead = DirectoryStream.ReadAheadStamp(epoch: started, readAt: readAt)
            let queued = state.withLock { state -> Int in
                state.reading[job.listing] = nil
                var listing = job.listing
                if case let .directory(key) = listing, let node = state.adopted.removeValue(forKey: key) {
                    // Its parent was listed meanwhile: kept under the node it was given.
                    state.reading[.node(node)] = nil
                    listing = .node(node)
                    stream?.node = node
                }
                guard let stream, !state.stopping else { return 0 }
                Self.store(stream, as: listing, in: &state)
                self.evictBeyondCapacity(&state)
                if case let .node(node) = listing {
                    return Self.enqueue(Self.childJobs(of: stream, under: .node(node), in: &state), in: &state, limit: queueLimit)
                }
                // Deeper, only while half the capacity is free and the oldest listing waiting is
                // younger than half its lifetime: further ahead, listings would push out the ones
                // the walker needs sooner, or grow stale before it comes (and be read again).
                guard state.readyEntries < entryCapacity / 2, !self.isFallingBehind(&state) else { return 0 }
                return Self.enqueue(Self.childJobs(of: stream, under: job, in: &state), in: &state, limit: queueLimit)
            }
            flight.landed.change { $0 = true }
            state.wake(queued)
            if stream != nil { statistics.recordReadAhead() }
            if let stream, !stream.linkTargets.isEmpty, let afterLinksRead { afterLinksRead(job, stream) }
        }
    }

    /// Whether the walker is slower than the reading: the oldest listing kept unused is past half
    /// the age at which it would no longer be served. Listings that can no longer be served (too
    /// old, or read before a change; a walker that skipped them) are dropped first, so they never
    /// hold the reading back.
    private func isFallingBehind(_ state: inout State) -> Bool {
        while let (_, oldest) = state.ready.oldest, !isFresh(oldest.readAhead), let (_, old) = state.ready.removeOldest() {
            state.readyEntries -= old.records.count
        }
        guard let readAt = state.ready.oldest?.value.readAhead?.readAt else { return false }
        return SystemCall.monotonicNanoseconds() - readAt > maximumAge / 2
    }

    private func evictBeyondCapacity(_ state: inout State) {
        // The oldest go first: a depth-first walker needs them last. The newest always stays.
        while state.readyEntries > entryCapacity, state.ready.count > 1, let (_, old) = state.ready.removeOldest() {
            state.readyEntries -= old.records.count
        }
    }
}

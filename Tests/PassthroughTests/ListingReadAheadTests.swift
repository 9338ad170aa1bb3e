import LinuxKit
import Glibc
import Dispatch
import FuseKit
@testable import Passthrough
import Synchronization
import Testing
import TestSupport

/// Listings read ahead of a walk: when, how fresh, how many. The loads here read real temp
/// directories; no filesystem or mount around them.
struct ListingReadAheadTests {
    /// Loads directory `node` from `directories[node]`, or a subdirectory by its parent's path and
    /// its name, with real lstats; counts the loads. Loads by inode wait for `gate` when one is set.
    final class Loader: Sendable {
        let directories: [NodeID: String]
        let loads = Atomic<Int>(0)
        let childLoadsStarted = Atomic<Int>(0)
        let gate: DispatchSemaphore?

        init(_ directories: [NodeID: String], gate: DispatchSemaphore? = nil) {
            self.directories = directories
            self.gate = gate
        }

        func load(_ job: ListingReadAhead.Job) -> DirectoryStream? {
            loads.add(1, ordering: .relaxed)
            let path: String, node: NodeID
            switch job {
            case let .node(id):
                guard let known = directories[id] else { return nil }
                (path, node) = (known, id)
            case let .child(parent, name, _):  // a path beneath parent
                childLoadsStarted.add(1, ordering: .relaxed)
                gate?.wait()
                guard let known = directories[parent] else { return nil }
                (path, node) = (known + "/" + String(decoding: name.dropLast(), as: UTF8.self), .none)
            }
            let stream = DirectoryStream(descriptor: FileDescriptor(owning: open(path, O_RDONLY | O_DIRECTORY)), node: node)
            let whole = try? stream.readWhole { stream in
                var statuses = [Glibc.stat](repeating: Glibc.stat(), count: stream.records.count)
                for index in statuses.indices {
                    fstatat(stream.descriptor, stream.name(of: stream.records[index]), &statuses[index], AT_SYMLINK_NOFOLLOW)
                }
                return DirectoryStream.Verification(start: 0, statuses: statuses, found: .init(repeating: true, count: statuses.count))
            }
            return whole == true ? stream : nil
        }
    }

    let tree = TemporaryDirectory()
    let root = NodeID(1), a = NodeID(2), b = NodeID(3), c = NodeID(4)

    init() {
        for path in ["a", "b", "a/c"] { tree.makeDirectory(path) }
        for path in ["a/c/f1", "a/c/f2", "b/g"] { tree.makeFile(path) }
    }

    func prefetcher(_ loader: Loader, maximumAge: Int64 = 60_000_000_000, entryCapacity: Int = 16_384) -> ListingReadAhead {
        ListingReadAhead(entryCapacity: entryCapacity, readaheadListings: 2, maximumAge: maximumAge, statistics: ListingStatistics()) { job, _ in loader.load(job) }
    }

    func loader() -> Loader { Loader([root: tree.path, a: tree.url("a"), b: tree.url("b"), c: tree.url("a/c")]) }

    /// Subdirectories as a listing announces them: node and inode.
    func dirs(_ nodes: NodeID...) -> [(node: NodeID, key: InodeKey)] {
        nodes.map { ($0, InodeKey(device: 1, inode: $0.rawValue, type: .directory)) }
    }

    /// Names of a listing served from memory, read as readdir would.
    func names(_ stream: DirectoryStream?) throws -> [String] {
        guard let stream else { return [] }
        var names: [String] = []
        while try stream.fill() {
            let record = stream.current
            if !record.isDotOrDotDot { names.append(String(cString: stream.name(of: record))) }
            stream.advance()
        }
        return names.sorted()
    }

    @Test func aListingAloneReadsNothingAhead() throws {
        let loader = loader()
        let prefetcher = prefetcher(loader)
        prefetcher.listed(root, subdirectories: dirs(a, b), wasReadAhead: false)
        #expect(prefetcher.take(a) == nil)
        #expect(loader.loads.load(ordering: .relaxed) == 0)
    }

    @Test func aWalkReadsTheSubdirectoriesAheadWhole() throws {
        let loader = loader()
        let prefetcher = prefetcher(loader)
        prefetcher.listed(root, subdirectories: dirs(a, b), wasReadAhead: false)
        // `a` was announced by its parent's listing: listing it means a walk, so `c` is read ahead.
        prefetcher.listed(a, subdirectories: dirs(c), wasReadAhead: false)
        try waitForLoads(loader, 1)
        let listing = prefetcher.take(c)  // would wait if it were still being read
        #expect(listing?.isReadWhole == true)
        // Kept among thousands: no room reserved beyond its 4 records.
        #expect((listing?.records.capacity ?? 0) < 16)
        #expect(try names(listing) == ["f1", "f2"])
        #expect(listing?.isExhausted == true)
        // Taken means owned: a second request lists for itself.
        #expect(prefetcher.take(c) == nil)
    }

    @Test func readersStartWithAWalkAndEndAtStop() throws {
        let loader = loader()
        let prefetcher = prefetcher(loader)
        #expect(prefetcher.readerThreads == 0)
        try walkInto(a, readingAhead: c, prefetcher, loader)
        #expect(prefetcher.readerThreads == 2)
        prefetcher.stop()
        for _ in 0..<500 where prefetcher.readerThreads > 0 { usleep(2_000) }
        #expect(prefetcher.readerThreads == 0)
        // Stopped: a later walk queues nothing.
        prefetcher.listed(root, subdirectories: dirs(b), wasReadAhead: true)
        #expect(prefetcher.take(b) == nil)
    }

    @Test func aChangeThroughTheMountDiscardsWhatWasReadBefore() throws {
        let loader = loader()
        let prefetcher = prefetcher(loader)
        try walkInto(a, readingAhead: c, prefetcher, loader)
        prefetcher.invalidate()
        #expect(prefetcher.take(c) == nil)
    }

    @Test func anOldListingIsNotServed() throws {
        let loader = loader()
        let prefetcher = prefetcher(loader, maximumAge: 20_000_000)
        try walkInto(a, readingAhead: c, prefetcher, loader)
        usleep(60_000)
        #expect(prefetcher.take(c) == nil)
    }

    @Test func theEntryCapacityDropsTheOldestListings() throws {
        let loader = loader()
        // c lists 4 entries (".", "..", f1, f2), b lists 3: together over the capacity of 5.
        let prefetcher = prefetcher(loader, entryCapacity: 5)
        try walkInto(a, readingAhead: c, prefetcher, loader)
        prefetcher.listed(root, subdirectories: dirs(b), wasReadAhead: true)
        try waitForLoads(loader, 2)
        usleep(20_000)
        #expect(try names(prefetcher.take(b)) == ["g"])
        #expect(prefetcher.take(c) == nil)
    }

    @Test func aDirectoryBiggerThanOneBatchIsNotKept() throws {
        let big = TemporaryDirectory()
        for index in 0..<800 { big.makeFile(String(repeating: "n", count: 60) + "\(index)") }
        let stream = DirectoryStream(descriptor: FileDescriptor(owning: open(big.path, O_RDONLY | O_DIRECTORY)), node: NodeID(9))
        #expect(try stream.readWhole { _ in Issue.record("verified a listing it does not keep"); return .init(start: 0, statuses: [], found: []) } == false)
    }

    /// A listing read ahead queues its subdirectories by inode; one still being read when the
    /// walker lists its parent is adopted under the node it got, and a request for it waits.
    @Test func aSubdirectoryBeingReadByInodeIsAdoptedAndWaitedFor() throws {
        tree.makeDirectory("a/c/x")
        tree.makeFile("a/c/x/deep")
        let gate = DispatchSemaphore(value: 0)
        let loader = Loader([root: tree.path, a: tree.url("a"), c: tree.url("a/c")], gate: gate)
        let prefetcher = prefetcher(loader)
        // Listing a reads c ahead; c's listing then queues x by inode, whose load waits at the gate.
        try walkInto(a, readingAhead: c, prefetcher, loader)
        for _ in 0..<500 where loader.childLoadsStarted.load(ordering: .relaxed) == 0 { usleep(2_000) }
        #expect(loader.childLoadsStarted.load(ordering: .relaxed) == 1)
        var status = stat()
        lstat(tree.url("a/c/x"), &status)
        let x = NodeID(9)
        // The walker lists c (from memory): x gets its node while its listing is still being read.
        #expect(try names(prefetcher.take(c)) == ["f1", "f2", "x"])
        prefetcher.listed(c, subdirectories: [(x, InodeKey(status))], wasReadAhead: true)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { gate.signal() }
        let listing = prefetcher.take(x)
        #expect(listing?.node == x)
        #expect(try names(listing) == ["deep"])
        #expect(loader.loads.load(ordering: .relaxed) == 2, "x was read a second time")
    }

    /// Listings read by inode queue their own subdirectories, deeper and deeper, but not once the
    /// walker falls behind: the oldest listing kept unused past half its lifetime.
    @Test(arguments: [false, true])
    func readingGoesNoDeeperWhileTheWalkerFallsBehind(fallsBehind: Bool) throws {
        for path in ["a/c/x", "a/c/x/y"] { tree.makeDirectory(path) }
        let gate = fallsBehind ? DispatchSemaphore(value: 0) : nil
        let loader = Loader([root: tree.path, a: tree.url("a"), c: tree.url("a/c")], gate: gate)
        let prefetcher = prefetcher(loader, maximumAge: 100_000_000)
        // Listing a reads c (by node) ahead; c queues x by inode, whose load waits at the gate
        // until c, kept unused, is 60 ms old.
        prefetcher.listed(root, subdirectories: dirs(a), wasReadAhead: false)
        prefetcher.listed(a, subdirectories: dirs(c), wasReadAhead: false)
        if let gate {
            for _ in 0..<500 where loader.childLoadsStarted.load(ordering: .relaxed) == 0 { usleep(2_000) }
            usleep(60_000)
            gate.signal()
            gate.signal()  // y's load, had it been queued
        }
        try waitForLoads(loader, 2)
        usleep(30_000)
        #expect(loader.loads.load(ordering: .relaxed) == (fallsBehind ? 2 : 3), "c, x, and y only when the walker keeps up")
    }

    /// A listing the walker skipped (it never came for c) goes stale and is dropped: it does not
    /// hold the reading of a later walk back.
    @Test func aSkippedListingDoesNotHoldTheReadingBack() throws {
        for path in ["b/h", "b/h/i"] { tree.makeDirectory(path) }
        let loader = loader()
        let prefetcher = prefetcher(loader, maximumAge: 100_000_000)
        try walkInto(a, readingAhead: c, prefetcher, loader)
        usleep(120_000)  // c, never taken, is stale now
        // The walk goes on in b: b (by node), then h and i by inode, deeper and deeper.
        prefetcher.listed(root, subdirectories: dirs(b), wasReadAhead: true)
        try waitForLoads(loader, 4)
        #expect(loader.loads.load(ordering: .relaxed) == 4, "c, b, h and i")
    }

    /// Lists the root, which announces `directory`, then `directory`, which reads `subdirectory`
    /// ahead; returns once that load had time to finish.
    func walkInto(_ directory: NodeID, readingAhead subdirectory: NodeID, _ prefetcher: ListingReadAhead, _ loader: Loader) throws {
        prefetcher.listed(root, subdirectories: dirs(directory), wasReadAhead: false)
        prefetcher.listed(directory, subdirectories: dirs(subdirectory), wasReadAhead: false)
        try waitForLoads(loader, 1)
    }

    /// Loads run on other threads: wait (bounded) until `count` started and had time to finish.
    func waitForLoads(_ loader: Loader, _ count: Int) throws {
        for _ in 0..<500 where loader.loads.load(ordering: .relaxed) < count { usleep(2_000) }
        #expect(loader.loads.load(ordering: .relaxed) >= count)
        usleep(20_000)
    }
}

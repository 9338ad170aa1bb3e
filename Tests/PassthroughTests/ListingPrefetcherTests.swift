#if canImport(Glibc)
import Glibc
#endif
import FuseKit
@testable import Passthrough
import Synchronization
import Testing

/// Listings read ahead of a walk: when, how fresh, how many. The loads here read real temp
/// directories; no filesystem or mount around them.
struct ListingPrefetcherTests {
    /// Loads directory `node` from `directories[node]` and counts the loads.
    final class Loader: Sendable {
        let directories: [NodeID: String]
        let loads = Atomic<Int>(0)

        init(_ directories: [NodeID: String]) { self.directories = directories }

        func load(_ node: NodeID) -> DirectoryStream? {
            loads.add(1, ordering: .relaxed)
            guard let path = directories[node] else { return nil }
            let stream = DirectoryStream(descriptor: open(path, O_RDONLY | O_DIRECTORY), node: node)
            let whole = try? stream.readWhole { stream in
                DirectoryStream.Verification(start: 0, statuses: .init(repeating: stat(), count: stream.records.count),
                                             found: .init(repeating: true, count: stream.records.count))
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

    func prefetcher(_ loader: Loader, maximumAge: Int64 = 60_000_000_000, entryCapacity: Int = 16_384) -> ListingPrefetcher {
        ListingPrefetcher(entryCapacity: entryCapacity, concurrency: 2, maximumAge: maximumAge, statistics: ListingStatistics()) { job, _ in
            guard case let .node(node) = job else { return nil }
            return loader.load(node)
        }
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
        let stream = DirectoryStream(descriptor: open(big.path, O_RDONLY | O_DIRECTORY), node: NodeID(9))
        #expect(try stream.readWhole { _ in Issue.record("verified a listing it does not keep"); return .init(start: 0, statuses: [], found: []) } == false)
    }

    /// Lists the root, which announces `directory`, then `directory`, which reads `subdirectory`
    /// ahead; returns once that load had time to finish.
    func walkInto(_ directory: NodeID, readingAhead subdirectory: NodeID, _ prefetcher: ListingPrefetcher, _ loader: Loader) throws {
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

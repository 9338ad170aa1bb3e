import LinuxKit
import Glibc
import FuseKit
@testable import Passthrough
import Testing
import TestSupport

/// The listings kept between READDIR requests, without a filesystem around them.
struct DirectoryStreamCacheTests {
    /// A stream over a real directory of `files` files, read until `entries` entries were consumed.
    func stream(_ directory: TemporaryDirectory, node: NodeID = NodeID(7), consuming entries: Int) throws -> DirectoryStream {
        let stream = DirectoryStream(descriptor: FileDescriptor(owning: open(directory.path, O_RDONLY | O_DIRECTORY)), node: node)
        for _ in 0..<entries {
            guard try stream.fill() else { break }
            stream.advance()
        }
        return stream
    }

    func directory(files: Int) -> TemporaryDirectory {
        let directory = TemporaryDirectory()
        for index in 0..<files { directory.makeFile("f\(index)") }
        return directory
    }

    @Test func aParkedListingContinuesAtItsPositionOnly() throws {
        let directory = directory(files: 20)
        let cache = DirectoryStreamCache()
        let parked = try stream(directory, consuming: 5)
        let position = parked.position
        cache.park(parked)
        #expect(cache.take(node: NodeID(8), position: position) == nil)
        #expect(cache.take(node: NodeID(7), position: position + 1) == nil)
        guard case let .stream(taken)? = cache.take(node: NodeID(7), position: position) else {
            Issue.record("the parked stream was not found")
            return
        }
        #expect(taken === parked)
        // Taken means owned: a second request at the same place opens its own.
        #expect(cache.take(node: NodeID(7), position: position) == nil)
        #expect(cache.count == 0)
    }

    @Test func aFinishedListingLeavesAnEndMarkerWithoutADescriptor() throws {
        let directory = directory(files: 3)
        let cache = DirectoryStreamCache()
        let finished = try stream(directory, consuming: 100)
        #expect(finished.isAtEnd)
        cache.park(finished)
        guard case .end? = cache.take(node: NodeID(7), position: finished.position) else {
            Issue.record("no end marker")
            return
        }
    }

    @Test func offsetZeroAlwaysStartsAfresh() throws {
        let directory = TemporaryDirectory()
        let cache = DirectoryStreamCache()
        let finished = DirectoryStream(descriptor: FileDescriptor(owning: open(directory.path, O_RDONLY | O_DIRECTORY)), node: NodeID(7))
        while try finished.fill() { finished.advance() }
        cache.park(finished)
        #expect(cache.take(node: NodeID(7), position: 0) == nil)
        #expect(cache.count == 1)
    }

    @Test func theOldestListingMakesRoomAndOldOnesExpire() throws {
        let directory = directory(files: 20)
        let cache = DirectoryStreamCache(capacity: 2, maximumAge: 200_000_000)
        let first = try stream(directory, node: NodeID(1), consuming: 3)
        let second = try stream(directory, node: NodeID(2), consuming: 3)
        let third = try stream(directory, node: NodeID(3), consuming: 3)
        for parked in [first, second, third] { cache.park(parked) }
        #expect(cache.count == 2)
        #expect(cache.take(node: NodeID(1), position: first.position) == nil)
        // The sweep closes what is left once it is older than the age bound, with no request coming.
        var waited = 0
        while cache.count > 0, waited < 50 {
            usleep(20_000)
            waited += 1
        }
        #expect(cache.count == 0)
    }
}

extension DirectoryStreamCache.Parked: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.end, .end): true
        case let (.stream(a), .stream(b)): a === b
        default: false
        }
    }
}

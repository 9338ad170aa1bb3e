import FuseKit
@testable import Passthrough
import Testing

/// Link targets kept from listings read ahead: when they are read, how many are kept.
struct LinkTargetCacheTests {
    let stamp = DirectoryStream.ReadAheadStamp(epoch: 3, readAt: 42)

    @Test func targetsAreWantedOnlyWhileLinksAreFollowed() {
        let cache = LinkTargetCache(followWindow: 1_000)
        #expect(!cache.isWanted(now: 0), "no link followed yet")
        cache.followed(now: 5_000)
        #expect(cache.isWanted(now: 5_999))
        #expect(!cache.isWanted(now: 6_000), "the last READLINK is older than the window")
    }

    @Test func aTargetIsTakenOnceWithItsStamp() throws {
        let cache = LinkTargetCache(followWindow: 1_000)
        cache.keep(Array("dir/file".utf8), for: NodeID(7), stamp: stamp)
        let taken = try #require(cache.take(NodeID(7)))
        #expect(taken.target == Array("dir/file".utf8))
        #expect(taken.stamp == stamp)
        #expect(cache.take(NodeID(7)) == nil, "a second READLINK reads the backing")
        #expect(cache.take(NodeID(8)) == nil)
    }

    @Test func theOldestTargetsGoFirst() {
        let cache = LinkTargetCache(capacity: 3, followWindow: 1_000)
        for node in 1...5 { cache.keep([UInt8(node)], for: NodeID(UInt64(node)), stamp: stamp) }
        #expect(cache.count == 3)
        #expect(cache.take(NodeID(1)) == nil && cache.take(NodeID(2)) == nil)
        #expect(cache.take(NodeID(5))?.target == [5])
        // Taking and keeping again leaves stale places in the order: the count stays bounded.
        for round in 0..<5_000 {
            let node = NodeID(UInt64(10 + round % 7))
            cache.keep([1], for: node, stamp: stamp)
            if round % 2 == 0 { _ = cache.take(node) }
        }
        #expect(cache.count <= 3)
    }

    @Test func keepingAgainReplacesTheTarget() {
        let cache = LinkTargetCache(capacity: 2, followWindow: 1_000)
        cache.keep([1], for: NodeID(1), stamp: stamp)
        cache.keep([2], for: NodeID(1), stamp: stamp)
        cache.keep([3], for: NodeID(2), stamp: stamp)
        #expect(cache.count == 2)
        #expect(cache.take(NodeID(1))?.target == [2])
    }
}

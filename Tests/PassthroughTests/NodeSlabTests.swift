import FuseKit
import Testing
@testable import Passthrough

@Suite struct NodeSlabTests {
    func node(_ inode: UInt64) -> NodeTable.Node {
        NodeTable.Node(key: InodeKey(device: 1, inode: inode, type: .regular), names: [], lookups: 1)
    }

    @Test func theFirstNodeIsTheRootAndIdsAreNeverReused() {
        var slab = NodeSlab()
        #expect(slab.insert(node(1)) == NodeID.root.rawValue)
        let first = slab.insert(node(2))
        slab[first] = nil
        #expect(slab[first] == nil)
        let second = slab.insert(node(3))
        #expect(second != first, "a reused slot must give a new ID")
        #expect(second & 0xFFFF_FFFF == first & 0xFFFF_FFFF, "the forgotten node's slot is reused")
        #expect(slab[second]?.key.inode == 3)
        // Writing through a stale ID changes nothing.
        slab[first] = node(99)
        #expect(slab[second]?.key.inode == 3)
        #expect(slab.count == 2)
    }

    @Test func manyNodesAcrossChunks() {
        var slab = NodeSlab()
        let ids = (0..<10_000).map { slab.insert(node(UInt64($0))) }
        #expect(Set(ids).count == ids.count)
        for (index, id) in ids.enumerated() where index % 3 == 0 { slab[id] = nil }
        for (index, id) in ids.enumerated() {
            #expect((slab[id] == nil) == (index % 3 == 0))
        }
        #expect(slab[0] == nil && slab[UInt64(20_000)] == nil, "unknown IDs are nil, never a crash")
        #expect(slab.count == ids.count - (ids.count + 2) / 3)
    }

    @Test func everyVacantSlotIsReusedBeforeTheSlabGrows() {
        var slab = NodeSlab()
        let ids = (0..<10_000).map { slab.insert(node(UInt64($0))) }
        for id in ids.dropFirst() { slab[id] = nil }
        for id in ids.dropFirst() { slab[id] = nil }  // forgotten twice: changes nothing
        let again = (0..<9_999).map { slab.insert(node(UInt64(100_000 + $0))) }
        #expect(Set(again.map { $0 & 0xFFFF_FFFF }) == Set(ids.dropFirst().map { $0 & 0xFFFF_FFFF }),
                "the new nodes took exactly the vacated slots")
        #expect(Set(again).isDisjoint(with: Set(ids)))
        #expect(slab.insert(node(7)) & 0xFFFF_FFFF == 10_001, "then the slab grows")
        #expect(slab.count == 10_001)
        #expect(slab[again[5]]?.key.inode == 100_005)
    }

    @Test func keysAndNodesStaySmall() {
        // A million remembered inodes cost their node and one or two keys each.
        #expect(MemoryLayout<InodeKey>.stride == 16)
        #expect(MemoryLayout<NodeTable.Node>.stride <= 48)
    }
}

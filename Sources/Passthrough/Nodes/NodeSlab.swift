import FuseKit

/// The node table's storage. Nodes live in slots of fixed-size chunks: growing never copies or
/// doubles anything (a dictionary of a million nodes briefly holds two tables while it rehashes,
/// and keeps up to half its buckets empty), and a forgotten node's slot is reused. A node ID is its
/// slot number plus the slot's generation, bumped on every reuse, so IDs are never reused — the
/// kernel must never see a forgotten inode's number come back for another object.
///
/// Vacant slots are chained through the slots themselves: when the kernel forgets its inodes at
/// once (a memory shrink forgets hundreds of thousands), a separate list of free slots would grow
/// by megabytes just then.
struct NodeSlab: ~Copyable {
    private struct Slot {
        var node: NodeTable.Node
        var generation: UInt32
        /// 0 for a live node; for a vacant slot, the next vacant slot + 1, or `endOfVacancies`.
        var vacancy: UInt32

        var live: Bool { vacancy == 0 }
    }

    private static let endOfVacancies = UInt32.max

    private static let chunkSize = 4096
    private static let vacant = NodeTable.Node(key: InodeKey(device: 0, inode: 0, type: .unknown), names: [], lookups: 0)

    private var chunks: [[Slot]] = []
    /// The most recently vacated slot, the head of the chain through `Slot.vacancy`.
    private var firstVacant: Int?
    private var slotCount = 0
    /// Live nodes.
    private(set) var count = 0

    /// The live node with this ID; assigning nil forgets it and frees its slot.
    subscript(id: UInt64) -> NodeTable.Node? {
        get {
            guard let (chunk, index) = locate(id) else { return nil }
            return chunks[chunk][index].node
        }
        set {
            guard let (chunk, index) = locate(id) else { return }
            if let newValue {
                chunks[chunk][index].node = newValue
            } else {
                chunks[chunk][index].node = Self.vacant
                chunks[chunk][index].vacancy = firstVacant.map { UInt32($0) + 1 } ?? Self.endOfVacancies
                chunks[chunk][index].generation &+= 1
                firstVacant = chunk * Self.chunkSize + index
                count -= 1
            }
        }
    }

    /// Stores a new node and returns its ID (the first node stored gets 1, FUSE's root ID).
    mutating func insert(_ node: NodeTable.Node) -> UInt64 {
        let slot: Int
        if let reused = firstVacant {
            slot = reused
            let next = chunks[slot / Self.chunkSize][slot % Self.chunkSize].vacancy
            firstVacant = next == Self.endOfVacancies ? nil : Int(next - 1)
            chunks[slot / Self.chunkSize][slot % Self.chunkSize].node = node
            chunks[slot / Self.chunkSize][slot % Self.chunkSize].vacancy = 0
        } else {
            slot = slotCount
            if slot % Self.chunkSize == 0 {
                var chunk: [Slot] = []
                chunk.reserveCapacity(Self.chunkSize)
                chunks.append(chunk)
            }
            chunks[chunks.count - 1].append(Slot(node: node, generation: 0, vacancy: 0))
            slotCount += 1
        }
        count += 1
        let generation = chunks[slot / Self.chunkSize][slot % Self.chunkSize].generation
        return UInt64(generation) << 32 | UInt64(slot + 1)
    }

    private func locate(_ id: UInt64) -> (chunk: Int, index: Int)? {
        let number = id & 0xFFFF_FFFF
        guard number > 0, number <= UInt64(slotCount) else { return nil }
        let slot = Int(number - 1)
        let chunk = slot / Self.chunkSize, index = slot % Self.chunkSize
        guard chunks[chunk][index].live, chunks[chunk][index].generation == UInt32(truncatingIfNeeded: id >> 32) else {
            return nil
        }
        return (chunk, index)
    }
}

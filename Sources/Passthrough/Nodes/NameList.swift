/// The names of one node. Nearly every node has exactly one, kept inline: a million listed entries
/// then cost no second allocation each. Hard links spill into an array.
struct NameList: Sequence, ExpressibleByArrayLiteral {
    private var first: NodeTable.Name?
    private var rest: [NodeTable.Name] = []

    init(arrayLiteral elements: NodeTable.Name...) {
        for element in elements.reversed() { insertFirst(element) }
    }

    var count: Int { first == nil ? 0 : 1 + rest.count }

    /// Makes `place` the preferred name.
    mutating func insertFirst(_ place: NodeTable.Name) {
        if let current = first { rest.insert(current, at: 0) }
        first = place
    }

    mutating func removeAll(where shouldRemove: (NodeTable.Name) -> Bool) {
        rest.removeAll(where: shouldRemove)
        if let current = first, shouldRemove(current) {
            first = rest.isEmpty ? nil : rest.removeFirst()
        }
    }

    mutating func removeAll() {
        first = nil
        rest = []
    }

    /// A plain iterator: the node table walks names on every resolution, so no boxing.
    struct Iterator: IteratorProtocol {
        fileprivate var first: NodeTable.Name?
        fileprivate var rest: IndexingIterator<[NodeTable.Name]>

        mutating func next() -> NodeTable.Name? {
            if let place = first {
                first = nil
                return place
            }
            return rest.next()
        }
    }

    func makeIterator() -> Iterator {
        Iterator(first: first, rest: rest.makeIterator())
    }
}

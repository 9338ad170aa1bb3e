/// The names of one node. Nearly every node has exactly one, kept inline: a million listed entries
/// then cost no second allocation each. Hard links spill into an array.
struct LinkList: Sequence, ExpressibleByArrayLiteral {
    private var first: NodeTable.Link?
    private var rest: [NodeTable.Link] = []

    init(arrayLiteral elements: NodeTable.Link...) {
        for element in elements.reversed() { insertFirst(element) }
    }

    var count: Int { first == nil ? 0 : 1 + rest.count }

    /// Makes `link` the preferred name.
    mutating func insertFirst(_ link: NodeTable.Link) {
        if let current = first { rest.insert(current, at: 0) }
        first = link
    }

    mutating func removeAll(where shouldRemove: (NodeTable.Link) -> Bool) {
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
        fileprivate var first: NodeTable.Link?
        fileprivate var rest: IndexingIterator<[NodeTable.Link]>

        mutating func next() -> NodeTable.Link? {
            if let link = first {
                first = nil
                return link
            }
            return rest.next()
        }
    }

    func makeIterator() -> Iterator {
        Iterator(first: first, rest: rest.makeIterator())
    }
}

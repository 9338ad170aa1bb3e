/// The names of one node. Nearly every node has exactly one, kept inline: a million listed entries
/// then cost no second allocation each. Hard links spill into an array.
struct LinkList: Sequence, ExpressibleByArrayLiteral {
    private var first: NodeTable.Link?
    private var rest: [NodeTable.Link] = []

    init(arrayLiteral elements: NodeTable.Link...) {
        for element in elements.reversed() { insertFirst(element) }
    }

    var count: Int { first == nil ? 0 : 1 + rest.count }

    /// Makes `link` the preferred name, keeping at most `limit` names.
    mutating func insertFirst(_ link: NodeTable.Link, limit: Int = .max) {
        if let current = first {
            rest.insert(current, at: 0)
            if rest.count >= limit { rest.removeLast() }
        }
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

    func makeIterator() -> AnyIterator<NodeTable.Link> {
        var yieldedFirst = false
        var index = 0
        return AnyIterator {
            if !yieldedFirst {
                yieldedFirst = true
                if let first = self.first { return first }
            }
            guard index < self.rest.count else { return nil }
            defer { index += 1 }
            return self.rest[index]
        }
    }
}

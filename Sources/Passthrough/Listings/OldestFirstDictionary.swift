/// A dictionary whose entries can be dropped oldest first, for the bounded stores of things read
/// ahead. The insertion order is kept beside it; removing or replacing a key leaves its old place
/// stale (finding it would cost a scan), and stale places are skipped, then compacted once they
/// dominate.
struct OldestFirstDictionary<Key: Hashable, Value> {
    private var entries: [Key: (value: Value, sequence: UInt64)] = [:]
    /// Places in insertion order, oldest from `head` on.
    private var order: [(key: Key, sequence: UInt64)] = []
    private var head = 0
    private var nextSequence: UInt64 = 0

    var count: Int { entries.count }

    subscript(key: Key) -> Value? { entries[key]?.value }

    /// Stores `value` as the newest entry; returns the value it replaced.
    @discardableResult
    mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        let sequence = nextSequence
        nextSequence += 1
        let old = entries.updateValue((value, sequence), forKey: key)
        order.append((key, sequence))
        compactIfMostlyStale()
        return old?.value
    }

    mutating func removeValue(forKey key: Key) -> Value? {
        entries.removeValue(forKey: key)?.value
    }

    /// The oldest entry, left in place.
    var oldest: (key: Key, value: Value)? {
        var index = head
        while index < order.count {
            let (key, sequence) = order[index]
            if let entry = entries[key], entry.sequence == sequence { return (key, entry.value) }
            index += 1
        }
        return nil
    }

    /// Removes and returns the oldest entry.
    mutating func removeOldest() -> (key: Key, value: Value)? {
        while head < order.count {
            let (key, sequence) = order[head]
            head += 1
            if let entry = entries[key], entry.sequence == sequence {
                entries[key] = nil
                return (key, entry.value)
            }
        }
        return nil
    }

    private mutating func compactIfMostlyStale() {
        if order.count - head > 2 * entries.count + 1024 {
            let live = order[head...].filter { entries[$0.key]?.sequence == $0.sequence }
            order = live
            head = 0
        } else if head > 1024, head > order.count / 2 {
            order.removeFirst(head)
            head = 0
        }
    }
}

import FuseKit
import Glibc
import LinuxKit

/// A DirectorySink that keeps what readdir added and refuses entries past `capacity`, like a
/// full reply buffer.
struct RecordingSink: DirectorySink {
    struct Added: Equatable {
        var name: String
        var inode: UInt64
        var type: FileType
        var nextOffset: Int64
        var node: NodeID?
    }

    let wantsAttributes: Bool
    var capacity: Int
    var added: [Added] = []

    init(plus: Bool = false, capacity: Int = .max) {
        wantsAttributes = plus
        self.capacity = capacity
    }

    mutating func add(name: UnsafePointer<CChar>, inode: UInt64, type: FileType, nextOffset: Int64) -> Bool {
        guard added.count < capacity else { return false }
        added.append(Added(name: String(cString: name), inode: inode, type: type, nextOffset: nextOffset, node: nil))
        return true
    }

    mutating func add(name: UnsafePointer<CChar>, entry: Entry, nextOffset: Int64) -> Bool {
        guard added.count < capacity else { return false }
        added.append(Added(name: String(cString: name), inode: entry.attributes.inode,
                           type: FileType(mode: entry.attributes.mode), nextOffset: nextOffset, node: entry.node))
        return true
    }

    var remainingCapacityHint: Int { capacity == .max ? 1000 : capacity - added.count }

    var names: [String] { added.map(\.name).filter { $0 != "." && $0 != ".." }.sorted() }

    func type(of name: String) -> FileType? { added.first { $0.name == name }?.type }
}

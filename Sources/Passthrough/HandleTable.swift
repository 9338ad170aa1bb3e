import FuseKit
import Synchronization

/// Open objects by the handle number the kernel echoes back. A handle we did not issue (or already
/// released) is EBADF, never a crash.
final class HandleTable<Object: AnyObject & Sendable>: Sendable {
    private struct State: ~Copyable {
        var objects: [UInt64: Object] = [:]
        var next: UInt64
    }

    /// Handles carry this bit, so they can never be mistaken for a file handle (a descriptor).
    static var tag: UInt64 { 1 << 63 }

    private let state = Mutex(State(next: HandleTable.tag | 1))

    static func isTagged(_ handle: UInt64) -> Bool { handle & tag != 0 }

    func insert(_ object: Object) -> UInt64 {
        state.withLock { state in
            let handle = state.next
            state.next += 1
            state.objects[handle] = object
            return handle
        }
    }

    func get(_ handle: UInt64) throws(Errno) -> Object {
        guard let object = state.withLock({ $0.objects[handle] }) else { throw Errno.badFile }
        return object
    }

    func remove(_ handle: UInt64) -> Object? {
        state.withLock { $0.objects.removeValue(forKey: handle) }
    }
}

import Glibc
import Synchronization

/// The one seam where tests make system calls fail: within `SystemFault.injecting(.getdents,
/// Errno(ESTALE)) { ... }` the getdents64 calls of the calling thread fail with ESTALE. Faults
/// are per thread, so tests running in parallel do not see each other's. With none injected
/// (always, in the daemon) a check costs one relaxed atomic load.
public enum SystemFault {
    public enum Call: Sendable, Hashable {
        case open, lstat, getdents, readlink
    }

    private static let injectedAnywhere = Atomic<Int>(0)
    private static let faults = Mutex<[UInt: [Call: Errno]]>([:])

    @inline(__always)
    public static var isArmed: Bool { injectedAnywhere.load(ordering: .relaxed) > 0 }

    /// Throws the errno injected for `call` on this thread, if any.
    @inline(__always)
    public static func check(_ call: Call) throws(Errno) {
        guard isArmed, let errno = injected(call) else { return }
        throw errno
    }

    /// The errno injected for `call` on this thread.
    public static func injected(_ call: Call) -> Errno? {
        let thread = UInt(pthread_self())
        return faults.withLock { $0[thread]?[call] }
    }

    /// Runs `body` with `call` failing with `errno` on this thread.
    public static func injecting<R, E: Error>(_ call: Call, _ errno: Errno, _ body: () throws(E) -> R) throws(E) -> R {
        let thread = UInt(pthread_self())
        faults.withLock { $0[thread, default: [:]][call] = errno }
        injectedAnywhere.add(1, ordering: .relaxed)
        defer {
            faults.withLock { faults in
                faults[thread]?[call] = nil
                if faults[thread]?.isEmpty == true { faults[thread] = nil }
            }
            injectedAnywhere.subtract(1, ordering: .relaxed)
        }
        return try body()
    }
}

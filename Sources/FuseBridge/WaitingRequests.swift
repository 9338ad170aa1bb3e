import Glibc
import CFuse
import FuseKit
import Synchronization
import LinuxKit

/// Requests that may wait for ever (a lock wait: SETLKW, a blocking flock). Rules:
/// - first tried without waiting on the libfuse worker: most locks are free;
/// - on a conflict the wait moves to a thread of its own and the worker is free at once, so
///   blocked waits can never hold every worker while the request that would end them (the
///   holder's unlock) queues behind them;
/// - the kernel's INTERRUPT (the caller got a signal) ends the wait with EINTR, so the caller is
///   never left unkillable (xfstests generic/478);
/// - at most `maximumWaits` at once; beyond that a wait is refused with ENOLCK.
enum WaitingRequests {
    static let maximumWaits = 1024
    private static let waits = Atomic<Int>(0)

    /// `body(fs, nil)` must not wait (EAGAIN, EACCES or EWOULDBLOCK on a conflict); `body(fs, i)`
    /// waits until done or `i` is requested. It runs on another thread: capture values, never the
    /// callback's pointers.
    static func serve(_ raw: fuse_req_t?, _ operation: StaticString, mayWait: Bool,
                      _ body: @escaping @Sendable (any FileSystem, Interruption?) throws(Errno) -> Reply) {
        guard let raw else { return }
        let request = Request(raw, operation)
        switch attempt(body, request.fileSystem, nil) {
        case let .success(reply):
            request.send(reply)
            return
        case let .failure(error) where mayWait && (error == Errno(EAGAIN) || error == Errno(EACCES)):
            break  // a conflict: wait below
        case let .failure(error):
            FailureLog.record(error, operation: operation)
            request.reply(error: error)
            return
        }
        guard waits.add(1, ordering: .relaxed).newValue <= maximumWaits else {
            waits.subtract(1, ordering: .relaxed)
            DaemonLog.warning("\(operation): more than \(maximumWaits) lock waits at once; refusing with ENOLCK")
            request.reply(error: Errno(ENOLCK))
            return
        }
        let handle = RawRequest(request.handOver())
        DetachedThread.start(stackSize: 256 * 1024) {
            wait(handle.raw, operation, body)
            waits.subtract(1, ordering: .relaxed)
        }
    }

    private static func wait(_ raw: fuse_req_t, _ operation: StaticString,
                             _ body: (any FileSystem, Interruption?) throws(Errno) -> Reply) {
        let request = Request(raw, operation)
        let interruption = Interruption()
        let retained = Unmanaged.passRetained(interruption)
        // libfuse calls this on INTERRUPT, at once if one came already.
        fuse_req_interrupt_func(raw, { _, data in
            Unmanaged<Interruption>.fromOpaque(data!).takeUnretainedValue().request()
        }, retained.toOpaque())
        let reply = attempt(body, request.fileSystem, interruption)
        // After this no interrupt callback runs (libfuse holds the request's lock for both).
        fuse_req_interrupt_func(raw, nil, nil)
        retained.release()
        switch reply {
        case let .success(answer): request.send(answer)
        case let .failure(error): request.reply(error: error)
        }
    }

    private static func attempt(_ body: (any FileSystem, Interruption?) throws(Errno) -> Reply,
                                _ fileSystem: any FileSystem, _ interruption: Interruption?) -> Result<Reply, Errno> {
        do throws(Errno) {
            return .success(try body(fileSystem, interruption))
        } catch {
            return .failure(error)
        }
    }

    /// A request pointer handed to the waiting thread, which alone replies to it.
    private struct RawRequest: @unchecked Sendable {
        let raw: fuse_req_t
        init(_ raw: fuse_req_t) { self.raw = raw }
    }
}

import Glibc
import FuseKit
import Synchronization
import LinuxKit

/// Logs errors that mean the backing filesystem is failing (EIO, ENOTCONN, ENOSPC, timeouts, …),
/// as opposed to answers like ENOENT that programs expect. At most one line per errno every ten
/// seconds, with how many were suppressed, so a dead share cannot flood the journal.
enum FailureLog {
    private static let failures: Set<Int32> = [EIO, ENOTCONN, ESTALE, ENOSPC, EDQUOT, EROFS, ETIMEDOUT, EHOSTDOWN,
                                               EHOSTUNREACH, ENETDOWN, ENETUNREACH, ECONNRESET, ECONNABORTED, ENOMEM, EMFILE, ENFILE]
    private static let interval: Int = 10

    private struct Window {
        var started: Int = 0
        var suppressed: Int = 0
    }

    private static let windows = Mutex<[Int32: Window]>([:])

    static func record(_ error: Errno, operation: StaticString) {
        guard failures.contains(error.rawValue) else { return }
        let now = Int(time(nil))
        let report: Int? = windows.withLock { table in
            var window = table[error.rawValue, default: Window()]
            defer { table[error.rawValue] = window }
            if now - window.started >= interval {
                let suppressed = window.suppressed
                window = Window(started: now, suppressed: 0)
                return suppressed
            }
            window.suppressed += 1
            return nil
        }
        if let suppressed = report {
            DaemonLog.warning("backing filesystem error: \(operation): \(error)"
                + (suppressed > 0 ? " (\(suppressed) more in the last \(interval) s)" : ""))
        }
    }
}

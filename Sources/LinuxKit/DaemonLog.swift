import Glibc
import Synchronization

/// The daemon's log: stderr while in the foreground; once detached, syslog (the journal) or a
/// file (`logfile=`). Each line names the mount (`label`), so one host's several mounts can be
/// told apart. Messages are rare (start, stop, errors, summaries) except with `debug`, which logs
/// every request.
public enum DaemonLog {
    public enum Destination: Sendable, Equatable {
        case standardError
        case syslog
        /// Appended to; reopened when the path no longer names the open file (logrotate moved it).
        case file(String)
    }

    nonisolated(unsafe) private static var destination: Destination = .standardError
    nonisolated(unsafe) private static var prefix = ""
    nonisolated(unsafe) public private(set) static var debug = false
    private static let logfile = Mutex<Int32>(-1)

    /// Chooses where logs go and what each line starts with (the mount point); call before any
    /// worker thread starts. Opens a log file now, so that a path that cannot be written is an
    /// error before mounting.
    public static func configure(destination: Destination, debug: Bool, label: String? = nil) throws(Errno) {
        if case let .file(path) = destination {
            let descriptor = try openLogFile(path)
            logfile.withLock { current in
                if current >= 0 { close(current) }
                current = descriptor
            }
        }
        Self.destination = destination
        Self.debug = debug
        prefix = label.map { $0 + ": " } ?? ""
        if destination == .syslog {
            openlog("dtypefs", LOG_PID | LOG_NDELAY, LOG_DAEMON)
        }
    }

    public static func info(_ message: @autoclosure () -> String) { write(LOG_INFO, message()) }
    public static func warning(_ message: @autoclosure () -> String) { write(LOG_WARNING, message()) }
    public static func error(_ message: @autoclosure () -> String) { write(LOG_ERR, message()) }
    public static func trace(_ message: @autoclosure () -> String) {
        if debug { write(LOG_DEBUG, message()) }
    }

    private static func write(_ priority: Int32, _ message: String) {
        switch destination {
        case .standardError:
            let line = "dtypefs: " + prefix + message + "\n"
            _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        case .syslog:
            (prefix + message).withCString { text in withVaList([text]) { vsyslog(priority, "%s", $0) } }
        case let .file(path):
            let line = timestamp() + " dtypefs[\(getpid())]: " + prefix + message + "\n"
            logfile.withLock { descriptor in
                if !stillNames(path, descriptor), let reopened = try? openLogFile(path) {
                    close(descriptor)
                    descriptor = reopened
                }
                _ = line.withCString { Glibc.write(descriptor, $0, strlen($0)) }
            }
        }
    }

    private static func openLogFile(_ path: String) throws(Errno) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw Errno.current }
        return descriptor
    }

    /// Whether `path` is still the file open as `descriptor` (log lines are rare: a stat each).
    private static func stillNames(_ path: String, _ descriptor: Int32) -> Bool {
        var named = stat(), open = stat()
        guard stat(path, &named) == 0, fstat(descriptor, &open) == 0 else { return false }
        return named.st_dev == open.st_dev && named.st_ino == open.st_ino
    }

    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(cString: buffer)
    }
}

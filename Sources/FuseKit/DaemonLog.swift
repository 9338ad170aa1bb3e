#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log: stderr while in the foreground, syslog (the journal) once detached. Messages
/// are rare (start, stop, errors, summaries) except with `debug`, which logs every request.
public enum DaemonLog {
    public enum Destination: Sendable { case standardError, syslog }

    nonisolated(unsafe) private static var destination: Destination = .standardError
    nonisolated(unsafe) public private(set) static var debug = false

    /// Chooses where logs go; call before any worker thread starts.
    public static func configure(destination: Destination, debug: Bool) {
        Self.destination = destination
        Self.debug = debug
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
            let line = "dtypefs: " + message + "\n"
            _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        case .syslog:
            message.withCString { text in withVaList([text]) { vsyslog(priority, "%s", $0) } }
        }
    }
}

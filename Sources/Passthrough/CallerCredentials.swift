#if canImport(Glibc)
import Glibc
#endif
import CLinux
import FuseKit

/// Creates objects as the calling user: fsuid/fsgid are per-thread on Linux, so switching them on
/// the worker thread makes the backing filesystem record the caller as owner, and allow_other can
/// never be used to create root-owned files.
enum CallerCredentials {
    private static let daemonUID = geteuid()
    private static let daemonGID = getegid()

    /// Keeps root's capabilities while fsuid is someone else's: the kernel already checked the
    /// caller's permissions (default_permissions); the backing checks would see root's groups only.
    static func prepare() {
        if daemonUID == 0 { _ = clinux_keep_caps_across_fsuid() }
    }

    static func asCaller<R>(_ caller: Caller, _ body: () throws(Errno) -> R) throws(Errno) -> R {
        guard daemonUID == 0, caller.uid != 0 || caller.gid != 0 else { return try body() }
        _ = clinux_setfsgid(caller.gid)
        _ = clinux_setfsuid(caller.uid)
        defer {
            _ = clinux_setfsuid(daemonUID)
            _ = clinux_setfsgid(daemonGID)
        }
        return try body()
    }
}

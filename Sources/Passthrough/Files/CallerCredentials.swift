import Glibc
import CLinux
import FuseKit
import LinuxKit

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

    /// `umask`: the kernel sent the mode unmasked (`acl`): the backing applies the caller's umask
    /// unless the parent's default ACL replaces it, on this thread's own umask.
    static func asCaller<R>(_ caller: Caller, umask: Bool = false, _ body: () throws(Errno) -> R) throws(Errno) -> R {
        if umask {
            guard clinux_set_thread_umask(caller.umask) >= 0 else { throw Errno.current }
            defer { _ = clinux_set_thread_umask(0) }
            return try asCaller(caller, body)
        }
        guard daemonUID == 0, caller.uid != 0 || caller.gid != 0 else { return try body() }
        _ = clinux_setfsgid(caller.gid)
        _ = clinux_setfsuid(caller.uid)
        defer {
            _ = clinux_setfsuid(daemonUID)
            _ = clinux_setfsgid(daemonGID)
        }
        return try body()
    }

    /// Runs a change of a file's contents (write, fallocate, copy_file_range) as the caller, with
    /// the caller's right to keep setuid/setgid bits: none unless root. The kernel leaves clearing
    /// them to us on O_DIRECT and fallocate paths; the backing clears them for a writer without
    /// CAP_FSETID, and keeps a setgid bit without group execute only for a writer in the file's
    /// group, so fsgid must be the caller's too. (The caller's supplementary groups are unknown
    /// here: a writer in the group only through them loses that bit; never the other way round.)
    static func asWriter<R>(_ caller: Caller, _ body: () throws(Errno) -> R) throws(Errno) -> R {
        guard daemonUID == 0, caller.uid != 0 else { return try body() }
        guard clinux_set_fsetid_effective(0) == 0 else {
            // Keeping the bits would be the security bug: refuse the write instead.
            DaemonLog.error("cannot drop CAP_FSETID for a write by uid \(caller.uid): \(Errno.current)")
            throw Errno(EPERM)
        }
        defer { _ = clinux_set_fsetid_effective(1) }
        return try asCaller(caller, body)
    }
}

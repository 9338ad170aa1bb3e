import Glibc

/// Who made a request: the kernel's view of the calling process.
public struct Caller: Sendable {
    public var uid: uid_t
    public var gid: gid_t
    public var pid: pid_t
    public var umask: mode_t

    public init(uid: uid_t, gid: gid_t, pid: pid_t, umask: mode_t) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.umask = umask
    }
}

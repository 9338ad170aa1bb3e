import Glibc
import CFuse
import FuseKit

/// Applies the filesystem's wishes to the connection, within what the kernel offers.
enum ConnectionConfigurator {
    static func apply(_ settings: ConnectionSettings, to connection: UnsafeMutablePointer<fuse_conn_info>) {
        let capable = connection.pointee.capable
        var want = connection.pointee.want
        func set(_ flag: Int32, _ enabled: Bool) {
            let bit = UInt32(flag)
            if enabled, capable & bit != 0 { want |= bit } else if !enabled { want &= ~bit }
        }
        set(FUSE_CAP_READDIRPLUS, settings.readdirplus)
        set(FUSE_CAP_READDIRPLUS_AUTO, settings.readdirplus && settings.readdirplusAuto)
        set(FUSE_CAP_FLOCK_LOCKS, settings.flockLocks)
        set(FUSE_CAP_POSIX_LOCKS, settings.posixLocks)
        set(FUSE_CAP_SPLICE_WRITE, settings.splice)
        set(FUSE_CAP_SPLICE_MOVE, settings.splice)
        set(FUSE_CAP_CACHE_SYMLINKS, settings.cacheSymlinks)
        // The kernel clears setuid/setgid bits on write itself; we write as root, which would not.
        set(FUSE_CAP_HANDLE_KILLPRIV, false)
        // Other clients of a share change files: let mtime changes drop stale cached pages.
        set(FUSE_CAP_AUTO_INVAL_DATA, true)
        // Without ACLs the kernel applies the caller's umask before it sends us a mode; with them
        // a default ACL may replace the umask, which the backing decides (see `posixACL`).
        set(FUSE_CAP_POSIX_ACL, settings.posixACL)
        set(FUSE_CAP_DONT_MASK, settings.posixACL)
        set(FUSE_CAP_WRITEBACK_CACHE, false)
        connection.pointee.want = want
        connection.pointee.max_write = settings.maxWrite
        connection.pointee.max_readahead = max(connection.pointee.max_readahead, settings.maxWrite)
    }
}

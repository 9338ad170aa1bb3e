/// What the filesystem wants from the FUSE connection, settled once at init.
public struct ConnectionSettings: Sendable {
    /// READDIRPLUS: entries arrive with attributes (and so with the type from st_mode).
    public var readdirplus: Bool = true
    /// Let the kernel choose READDIRPLUS only when it expects lookups (READDIRPLUS_AUTO).
    public var readdirplusAuto: Bool = true
    /// Forward flock() to us instead of keeping it inside the kernel.
    public var flockLocks: Bool = true
    /// Forward POSIX record locks to us.
    public var posixLocks: Bool = true
    /// Largest write the kernel may send in one request.
    public var maxWrite: UInt32 = 1 << 20
    /// Use splice for reads and writes where the kernel supports it.
    public var splice: Bool = true
    /// POSIX ACLs checked and inherited by the kernel (FUSE_CAP_POSIX_ACL); the kernel then sends
    /// modes unmasked with the caller's umask beside them (FUSE_CAP_DONT_MASK), for the filesystem
    /// to apply only where no default ACL replaces it.
    public var posixACL: Bool = false
    /// Let the kernel cache symlink targets.
    public var cacheSymlinks: Bool = false

    public init() {}
}

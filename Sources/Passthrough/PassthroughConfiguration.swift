/// How the passthrough filesystem answers, fixed at mount time. Each knob is named after its
/// `-o` option and its default is defined here only: `--help` prints these values, and a unit
/// test checks the man page against them.
public struct PassthroughConfiguration: Sendable, Equatable {
    /// `dtype=`
    public var dtype: DTypePolicy = .verify
    /// `inodes=`: whether the backing's inode numbers identify its objects (see `InodeNumbers`);
    /// the option's `auto` is decided before this is filled.
    public var inodes: InodeNumbers = .stable
    /// The `noatime` mount flag: files are opened O_NOATIME, so reading through the mount (an exec,
    /// a read) does not touch the backing's access time either (xfstests generic/120).
    public var noatime = false
    /// `xattr=on|off`: off answers every extended attribute request ENOSYS, after which the kernel
    /// stops asking and tells programs EOPNOTSUPP, so `ls -l` asks for security.selinux once
    /// per mount instead of once per entry (FUSE caches no xattrs).
    public var xattr = true
    /// `acl` / `noacl`: POSIX ACLs enforced and inherited by the kernel (FUSE_CAP_POSIX_ACL), with
    /// the caller's umask applied by the backing, where a default ACL can replace it. Needs `xattr`.
    public var acl = false
    /// `entry_timeout=`: seconds the kernel may trust a name → inode answer.
    public var entryTimeout: Double = 1
    /// `attr_timeout=`: seconds the kernel may trust attributes.
    public var attrTimeout: Double = 1
    /// `negative_timeout=`: seconds the kernel may trust "no such name"; 0 disables negative caching.
    public var negativeTimeout: Double = 1
    /// `verify_threads=`: how many lstats of one readdir batch run at once (1 = one after another).
    public var verifyThreads: Int = 16
    /// Nodes the kernel may hold before listings stop creating nodes for non-directories (no
    /// option): beyond it a READDIRPLUS entry of a file still carries its verified type, but no
    /// inode, so walking a huge tree keeps the daemon's memory bounded (stats of those files then
    /// cost a LOOKUP each).
    public var listedNodeBudget: Int = 65_536
    /// `readahead_listings=`: how many subdirectories' listings are read ahead at once while a walk
    /// is under way (0 = never; only with `dtype=verify`). See `Listings`.
    public var readaheadListings: Int = 8
    /// `readdirplus=`: when READDIRPLUS is offered to the kernel (only with `dtype=verify`).
    public var readdirplus: ReaddirplusPolicy = .auto

    /// READDIRPLUS answers a listing with every entry's attributes: later stats are free, but each
    /// entry becomes a kernel inode. `auto` lets the kernel ask for it when it expects lookups.
    public enum ReaddirplusPolicy: String, Sendable, CaseIterable {
        case auto, always, never
    }

    public init() {}
}

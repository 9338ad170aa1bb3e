/// How the passthrough filesystem answers, fixed at mount time.
public struct PassthroughConfiguration: Sendable {
    public var dtype: DTypePolicy = .verify
    /// Whether the backing's inode numbers identify its objects (see `InodeNumbers`).
    public var inodeNumbers: InodeNumbers = .stable
    /// The mount is `noatime`: files are opened O_NOATIME, so reading through the mount (an exec,
    /// a read) does not touch the backing's access time either (xfstests generic/120).
    public var noAccessTime = false
    /// `xattr=off`: every extended attribute request is answered ENOSYS, after which the kernel
    /// stops asking and tells programs EOPNOTSUPP, so `ls -l` asks for security.selinux once
    /// per mount instead of once per entry (FUSE caches no xattrs).
    public var extendedAttributes = true
    /// Seconds the kernel may trust a name → inode answer.
    public var entryTimeout: Double = 1
    /// Seconds the kernel may trust attributes.
    public var attributeTimeout: Double = 1
    /// Seconds the kernel may trust "no such name"; 0 disables negative caching.
    public var negativeTimeout: Double = 1
    /// How many lstats of one readdir batch run at once (1 = one after another).
    public var verifyConcurrency: Int = 16
    /// Nodes the kernel may hold before listings stop creating nodes for non-directories: beyond it
    /// a READDIRPLUS entry of a file still carries its verified type, but no inode, so walking a huge
    /// tree keeps the daemon's memory bounded (stats of those files then cost a LOOKUP each). At
    /// about 150 bytes a node, 65,536 listed nodes cost under 10 MiB.
    public var listedNodeBudget: Int = 65_536
    /// How many subdirectories' listings are read ahead at once while a walk is under way (0 = never;
    /// only with `dtype=verify`). See `ListingPrefetcher`.
    public var listingReadAhead: Int = 8
    /// When READDIRPLUS is offered to the kernel (only with `dtype=verify`).
    public var readDirectoryPlus: ReadDirectoryPlusPolicy = .auto

    /// READDIRPLUS answers a listing with every entry's attributes: later stats are free, but each
    /// entry becomes a kernel inode. `auto` lets the kernel ask for it when it expects lookups.
    public enum ReadDirectoryPlusPolicy: String, Sendable, CaseIterable {
        case auto, always, never
    }

    public init() {}
}

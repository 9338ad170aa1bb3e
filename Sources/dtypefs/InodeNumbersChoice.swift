import Passthrough

/// What `inodes=auto` means for a source: whether its filesystem's inode numbers can identify
/// objects, judged from the mount table (never from a stat that a dead share could hang).
enum InodeNumbersChoice {
    /// The choice for `source` (absolute, resolved) and why, for the log.
    static func automatic(forSource source: String, in table: MountTable) -> (InodeNumbers, reason: String) {
        guard let mount = containingMount(of: source, in: table) else {
            return (.stable, "its filesystem is not in the mount table")
        }
        let type = mount.fileSystemType
        if type == "cifs" || type == "smb3" {
            return mount.superOptions.contains("noserverino")
                ? (.unstable, "\(mount.mountPoint) is \(type) with noserverino")
                : (.stable, "\(mount.mountPoint) is \(type) with serverino")
        }
        if type == "fuse" || type.hasPrefix("fuse.") {
            return (.unstable, "\(mount.mountPoint) is \(type), whose inode numbers are its daemon's choice")
        }
        return (.stable, "\(mount.mountPoint) is \(type)")
    }

    /// The mount `path` lies on: the longest mount point that is `path` or one of its parents,
    /// the topmost where several are stacked.
    static func containingMount(of path: String, in table: MountTable) -> MountTable.Entry? {
        var best: MountTable.Entry?
        for entry in table.entries where isWithin(path, entry.mountPoint) {
            if best == nil || entry.mountPoint.count >= best!.mountPoint.count { best = entry }
        }
        return best
    }

    private static func isWithin(_ path: String, _ mountPoint: String) -> Bool {
        mountPoint == "/" || path == mountPoint || path.hasPrefix(mountPoint + "/")
    }
}

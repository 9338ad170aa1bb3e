import Glibc

/// What is checked about SOURCE and MOUNTPOINT in the mount table before mounting, so that the
/// admin hears of a mistake instead of finding it later: a second dtypefs stacked on the same
/// point, or a share that is not mounted (dtypefs would serve the empty directory beneath).
enum MountPreflight {
    enum Verdict: Equatable {
        case proceed(warnings: [String])
        case refuse(String)
    }

    static func check(source: String, mountpoint: String, fsname: String, requireMountpoint: Bool,
                      table: MountTable) -> Verdict {
        if let top = table.topmost(at: mountpoint), top.fileSystemType == "fuse.dtypefs",
           top.source == fsname || source == mountpoint {
            return .refuse("'\(mountpoint)' is already a dtypefs mount of '\(top.source)': a second one would stack on it "
                           + "(umount \(mountpoint) first; if its daemon died, umount -l \(mountpoint), and -o auto_unmount avoids that)")
        }
        guard table.topmost(at: source) == nil else { return .proceed(warnings: []) }
        if requireMountpoint {
            return .refuse("source '\(source)' is not a mount point: is the share mounted? (require_mountpoint)")
        }
        return .proceed(warnings: [
            "warning: source '\(source)' is not a mount point: if a share belongs there it is not mounted, and "
                + "programs see the directory beneath (-o require_mountpoint refuses to start then)",
        ])
    }

    /// Where the background daemon's lines would go unread: no syslog socket and no logfile.
    static func logWarning(foreground: Bool, logfile: String?) -> String? {
        guard !foreground, logfile == nil, access("/dev/log", F_OK) != 0 else { return nil }
        return "warning: no syslog socket (/dev/log): the daemon's log lines and statistics will be lost; "
            + "use -o logfile=PATH, or run with -f under a supervisor"
    }
}

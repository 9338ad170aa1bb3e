import FuseBridge
import Passthrough

/// The `-o` options: dtypefs's own, the FUSE ones we expose, and the ones mount(8) and
/// mount.fuse3 hand to every FUSE program.
struct MountOptions: Equatable {
    /// The filesystem's own knobs (dtype, xattr, the timeouts, readdirplus, verify_threads,
    /// readahead_listings), under the options' names, with their defaults defined there once.
    var passthrough = PassthroughConfiguration()
    /// nil: `inodes=auto`, decided from the source's filesystem (InodeNumbersChoice).
    var inodes: InodeNumbers?
    /// nil: the default (on when running as root, so an overlay stays visible to every user).
    var allowOther: Bool?
    var readOnly = false
    var maxThreads = MountConfiguration.defaultMaxThreads
    var fsname: String?
    /// `auto_unmount`: the mount goes away when the daemon dies (killed, crashed), as in sshfs.
    var autoUnmount = false
    /// `require_mountpoint`: refuse to start unless SOURCE is a mount point (the share is there).
    var requireMountpoint = false
    /// `logfile=PATH`: the background daemon logs there instead of syslog.
    var logfile: String?
    /// Options accepted for compatibility with a note to the user (nonempty).
    var notes: [String] = []
    /// Kernel mount flags passed on as given (nosuid, nodev, noexec, noatime, ...).
    var mountFlags: [String] = []
    /// Every mount point flag given (ro, nosuid, nodiratime, ...), in order: those libfuse cannot
    /// pass are set right after mounting, and a remount sets them all (MountPointFlags).
    var mountPointFlags: [String] = []
    /// `remount`: change the flags of a running dtypefs mount (mount -o remount).
    var remount = false
    /// The daemon's own options given (dtype, attr_timeout, ...): a remount cannot change them.
    var daemonOptionKeys: [String] = []
    /// Options the kernel lists for every FUSE mount (user_id=0, ...): mount(8) hands them back on
    /// a remount; libfuse sets them itself, so a mount refuses them.
    var fuseKernelOptions: [String] = []

    /// Kernel mount flags libfuse 3.14 passes on.
    static let kernelMountFlags: Set<String> = [
        "dev", "nodev", "suid", "nosuid", "exec", "noexec", "atime", "noatime", "sync", "async", "dirsync",
    ]
    /// mount(8) passes relatime, the kernel's default for new mounts, which libfuse does not know.
    static let kernelDefaultFlags: Set<String> = ["relatime"]
    /// Kernel flags of the superblock that FUSE cannot take: refused by name, never dropped silently.
    static let unsupportedMountFlags: Set<String> = ["lazytime", "nolazytime"]

    /// Options that configure the daemon: fixed for the life of a mount.
    static let daemonOptions: Set<String> = [
        "dtype", "inodes", "xattr", "acl", "noacl", "attr_timeout", "entry_timeout", "negative_timeout", "max_threads", "readdirplus",
        "verify_threads", "readahead_listings", "fsname", "noallow_other", "auto_unmount", "require_mountpoint",
        "logfile",
    ]

    /// Options mount(8) or fstab users write that mean nothing to the filesystem itself.
    static func isIgnored(_ option: String) -> Bool {
        ["defaults", "nofail", "_netdev", "auto", "noauto", "user", "users", "nouser", "owner", "group",
         "default_permissions", "comment", "silent", "loud"].contains(option)
            || option.hasPrefix("x-") || option.hasPrefix("comment=")
    }

    /// Applies one `-o` argument: comma-separated options, a backslash escaping a comma.
    mutating func apply(_ text: String) throws(UsageError) {
        for option in Self.split(text) where !option.isEmpty {
            try applyOne(option)
        }
    }

    /// Checks what only the whole option list can tell.
    func validate() throws(UsageError) {
        if passthrough.acl, !passthrough.xattr {
            throw UsageError("option acl needs extended attributes (ACLs are stored in them): drop xattr=off or acl")
        }
        if !remount, let first = fuseKernelOptions.first {
            throw UsageError("option '\(first)' is set by libfuse itself and cannot be given")
        }
    }

    private mutating func applyOne(_ option: String) throws(UsageError) {
        let (key, value) = Self.keyValue(option)
        if value == nil, MountPointFlags.optionNames.contains(key) { mountPointFlags.append(key) }
        if Self.daemonOptions.contains(key) { daemonOptionKeys.append(key) }
        switch key {
        case "remount": try noValue(key, value); remount = true
        case "user_id", "group_id", "rootmode", "blksize", "max_read", "fd": fuseKernelOptions.append(key)
        case "dtype":
            guard let value, let policy = DTypePolicy(rawValue: value) else {
                throw UsageError("bad value '\(value ?? "")' for option dtype (expected verify, unknown or passthrough)")
            }
            passthrough.dtype = policy
        case "inodes":
            switch value {
            case "auto": inodes = nil
            case let value? where InodeNumbers(rawValue: value) != nil: inodes = InodeNumbers(rawValue: value)
            default: throw UsageError("bad value '\(value ?? "")' for option inodes (expected auto, stable or unstable)")
            }
        case "allow_other": try noValue(key, value); allowOther = true
        case "noallow_other": try noValue(key, value); allowOther = false
        case "ro": try noValue(key, value); readOnly = true
        case "rw": try noValue(key, value); readOnly = false
        case "attr_timeout": passthrough.attrTimeout = try Self.seconds(key, value)
        case "entry_timeout": passthrough.entryTimeout = try Self.seconds(key, value)
        case "negative_timeout": passthrough.negativeTimeout = try Self.seconds(key, value)
        case "max_threads":
            guard let value, let count = Int(value), (1...1024).contains(count) else {
                throw UsageError("bad value '\(value ?? "")' for option max_threads (expected a whole number from 1 to 1024)")
            }
            maxThreads = count
        case "readdirplus":
            guard let value, let policy = PassthroughConfiguration.ReaddirplusPolicy(rawValue: value) else {
                throw UsageError("bad value '\(value ?? "")' for option readdirplus (expected auto, always or never)")
            }
            passthrough.readdirplus = policy
        case "verify_threads":
            guard let value, let count = Int(value), (1...256).contains(count) else {
                throw UsageError("bad value '\(value ?? "")' for option verify_threads (expected a whole number from 1 to 256)")
            }
            passthrough.verifyThreads = count
        case "readahead_listings":
            guard let value, let count = Int(value), (0...64).contains(count) else {
                throw UsageError("bad value '\(value ?? "")' for option readahead_listings (expected a whole number from 0 to 64)")
            }
            passthrough.readaheadListings = count
        case "xattr":
            guard let value, value == "on" || value == "off" else {
                throw UsageError("bad value '\(value ?? "")' for option xattr (expected on or off)")
            }
            passthrough.xattr = value == "on"
        case "acl": try noValue(key, value); passthrough.acl = true
        case "noacl": try noValue(key, value); passthrough.acl = false
        case "auto_unmount": try noValue(key, value); autoUnmount = true
        case "require_mountpoint": try noValue(key, value); requireMountpoint = true
        case "logfile":
            guard let value, value.hasPrefix("/") else {
                throw UsageError("option logfile needs an absolute path, e.g. logfile=/var/log/dtypefs.log")
            }
            logfile = value
        case "nonempty":
            notes.append("option 'nonempty' means nothing with FUSE 3 (a non-empty mount point is always allowed): ignored")
        case "uid", "gid", "umask":
            throw UsageError("option '\(key)' is not supported: dtypefs passes owners and modes through unchanged "
                             + "(to remap them, mount bindfs over dtypefs, e.g. bindfs --force-user=NAME)")
        case "kernel_cache", "auto_cache":
            throw UsageError("option '\(key)' is not supported: dtypefs decides the kernel's page caching itself")
        case "fsname":
            guard let value, !value.isEmpty else { throw UsageError("option fsname needs a value, e.g. fsname=//server/share") }
            fsname = value
        default:
            if value == nil, Self.kernelMountFlags.contains(key) {
                mountFlags.removeAll { $0 == key }
                mountFlags.append(key)
            } else if value == nil, Self.kernelDefaultFlags.contains(key) || MountPointFlags.afterMountNames.contains(key) {
                return
            } else if value == nil, Self.unsupportedMountFlags.contains(key) {
                throw UsageError("option '\(key)' cannot be set on a FUSE mount (libfuse 3.14 does not pass it to the kernel)")
            } else if !Self.isIgnored(option) && !Self.isIgnored(key) {
                throw UsageError("unknown option '\(option)' (see dtypefs --help)")
            }
        }
    }

    private func noValue(_ key: String, _ value: String?) throws(UsageError) {
        if let value { throw UsageError("option \(key) takes no value (got '\(value)')") }
    }

    private static func seconds(_ key: String, _ value: String?) throws(UsageError) -> Double {
        guard let value, let seconds = Double(value), seconds.isFinite, seconds >= 0, seconds <= 86_400 * 365 else {
            throw UsageError("bad value '\(value ?? "")' for option \(key) (expected seconds, 0 or more)")
        }
        return seconds
    }

    private static func keyValue(_ option: String) -> (String, String?) {
        guard let equals = option.firstIndex(of: "=") else { return (option, nil) }
        return (String(option[..<equals]), String(option[option.index(after: equals)...]))
    }

    static func split(_ text: String) -> [String] {
        var options: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                options.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        options.append(current)
        return options
    }
}

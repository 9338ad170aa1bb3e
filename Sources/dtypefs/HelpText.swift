import FuseBridge
import Passthrough

/// What `dtypefs --help` prints. Defaults come from where they are defined
/// (`PassthroughConfiguration`, `MountConfiguration`), never written here.
enum HelpText {
    static let version = "dtypefs 0.1.0"

    private static let defaults = PassthroughConfiguration()

    /// A number of seconds or a count as an option value: 1, 0.5.
    static func optionValue(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    static let usage = """
    Usage: dtypefs SOURCE MOUNTPOINT [-f] [-d] [-o OPTION[,OPTION...]]...
           dtypefs check [--json] [-r|--recursive] PATH...

    Mounts SOURCE (for example a CIFS share mounted with mfsymlinks) at MOUNTPOINT and passes
    every operation through, but answers readdir with the type lstat gives, so that programs
    trusting d_type (os.walk, find -type l, Go WalkDir, fd, ripgrep, node, git) see symlinks
    as symlinks. SOURCE and MOUNTPOINT may be the same directory: dtypefs then overlays it.

    Flags:
      -f, --foreground     stay in the foreground (logs go to stderr); default: return once
                           mounted and log to syslog (journalctl -t dtypefs), or to logfile=
      -d, --debug          log every request (implies -f)
      -h, --help           show this help
      -V, --version        show the version

    Options (-o):
      dtype=verify         report the type of an lstat of each entry\(defaults.dtype == .verify ? " (default)" : "")
      dtype=unknown        report DT_UNKNOWN for every entry: programs lstat themselves
      dtype=passthrough    report the backing filesystem's d_type unchanged (lies included)
      inodes=auto|stable|unstable
                           whether SOURCE's inode numbers identify its files; unstable
                           (CIFS noserverino, FUSE sources) finds files by name, and hard
                           links are separate inodes; auto (default) decides from the
                           mount table
      xattr=on|off         extended attributes through the mount (default \(defaults.xattr ? "on" : "off")); off answers
                           "not supported" once, and ls -l stops asking per entry
      acl | noacl          POSIX ACLs enforced and inherited by the kernel, as on a local
                           filesystem (default noacl: stored and shown, the mode decides)
      auto_unmount         unmount when the daemon dies (killed, crashed): no dead mount
      require_mountpoint   refuse to start unless SOURCE is a mount point (the share is up);
                           otherwise that case is only warned about
      logfile=PATH         log to PATH (appended; reopened when logrotate moves it) instead of
                           syslog
      allow_other          let every user use the mount (default when run as root)
      noallow_other        only the mounting user
      ro | rw              read-only or read-write (default rw)
      entry_timeout=S      seconds the kernel caches names (default \(optionValue(defaults.entryTimeout)), like CIFS actimeo)
      attr_timeout=S       seconds the kernel caches attributes (default \(optionValue(defaults.attrTimeout)))
      negative_timeout=S   seconds the kernel caches "no such file" (default \(optionValue(defaults.negativeTimeout)); 0 disables)
      max_threads=N        worker threads (default \(MountConfiguration.defaultMaxThreads))
      readdirplus=auto|always|never
                           listings with attributes: auto (default) lets the kernel ask when
                           it expects stats to follow; never suits pure tree walks
      verify_threads=N     lstats of one listing run on up to N threads once they prove
                           slow (default \(defaults.verifyThreads); 1 = one after another)
      readahead_listings=N during a tree walk, read and verify up to N listings at once,
                           ahead of the walker, with their links' targets (and where they
                           lead) while it follows links, and the extended attributes it
                           asks of every entry (ls -l) (default \(defaults.readaheadListings); 0 = off)
      fsname=NAME          the source shown by mount and df (default: SOURCE)
      dev,nodev,suid,nosuid,exec,noexec,atime,noatime,relatime, ...
                           kernel mount flags, as mount(8) passes them; nodiratime and
                           strictatime are set right after mounting
      remount              with mount -o remount: change ro/rw, nosuid, noatime, ... of a
                           running mount (dtypefs's own options stay as mounted)
      default_permissions  always on: the kernel checks permissions
      defaults,nofail,_netdev,x-*   accepted and ignored (fstab options)

    Examples:
      dtypefs /mnt/share /srv/share                 serve /mnt/share at /srv/share
      dtypefs /mnt/cifs /mnt/cifs                   fix /mnt/cifs in place
      dtypefs -f -o dtype=unknown,ro /mnt/cifs /mnt/view
      fusermount3 -u /srv/share                     unmount (or: umount /srv/share)
      dtypefs check -r /mnt/cifs                    list entries whose d_type lies

    fstab:
      /mnt/.share-raw  /srv/share  fuse.dtypefs  _netdev,nofail,auto_unmount,require_mountpoint,x-systemd.requires-mounts-for=/mnt/.share-raw  0 0

    Logs: with -f on stderr; else syslog (journalctl -t dtypefs) or logfile=PATH. Without a
    syslog socket and without logfile= the daemon's lines are lost (dtypefs warns at start).

    Exit status: 0 unmounted cleanly; 1 mount or runtime failure; 2 bad arguments.
    Signals: SIGINT, SIGTERM, SIGHUP unmount and exit 0; SIGUSR1 logs the listing counters
    and the inodes held.
    """
}

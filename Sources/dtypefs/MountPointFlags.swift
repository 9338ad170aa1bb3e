import CLinux
import FuseKit
import LinuxKit

/// The flags of one mount point — ro, nosuid, nodev, noexec and the atime rules — which a bind
/// remount changes on any filesystem without the daemon. dtypefs sets through it what libfuse
/// 3.14 cannot pass at mount time (nodiratime, strictatime, ...), and `mount -o remount,...`.
struct MountPointFlags: Equatable {
    var bits: UInt32

    /// Every option this understands, by the name mount(8) uses.
    static let optionNames: Set<String> = [
        "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
        "noatime", "atime", "relatime", "norelatime", "strictatime", "nostrictatime", "nodiratime", "diratime",
    ]
    /// The ones libfuse 3.14 cannot pass at mount time, set right after mounting.
    static let afterMountNames: Set<String> = ["norelatime", "strictatime", "nostrictatime", "nodiratime", "diratime"]

    private static let accessTimeBits = UInt32(CLINUX_MOUNT_NOATIME | CLINUX_MOUNT_RELATIME)

    /// Applies one option as the kernel reads mount(8)'s: later options win.
    mutating func apply(_ option: String) {
        func set(_ bit: Int32, _ on: Bool) { bits = on ? bits | UInt32(bit) : bits & ~UInt32(bit) }
        switch option {
        case "ro", "rw": set(CLINUX_MOUNT_RDONLY, option == "ro")
        case "nosuid", "suid": set(CLINUX_MOUNT_NOSUID, option == "nosuid")
        case "nodev", "dev": set(CLINUX_MOUNT_NODEV, option == "nodev")
        case "noexec", "exec": set(CLINUX_MOUNT_NOEXEC, option == "noexec")
        case "noatime": bits = bits & ~Self.accessTimeBits | UInt32(CLINUX_MOUNT_NOATIME)
        case "atime": set(CLINUX_MOUNT_NOATIME, false)
        case "relatime", "nostrictatime": bits = bits & ~Self.accessTimeBits | UInt32(CLINUX_MOUNT_RELATIME)
        case "strictatime", "norelatime": bits &= ~Self.accessTimeBits
        case "nodiratime", "diratime": set(CLINUX_MOUNT_NODIRATIME, option == "nodiratime")
        default: assertionFailure("not a mount point flag: \(option)")
        }
    }

    /// The flags of a mount as the mount table lists them: "rw,nosuid,nodev,relatime".
    init(options: [String]) {
        bits = 0  // strictatime unless an option says otherwise
        for option in options where Self.optionNames.contains(option) { apply(option) }
    }

    /// Sets exactly these flags on the mount point at `path`.
    func set(on path: String) throws(Errno) {
        guard clinux_bind_remount(path, bits) == 0 else { throw Errno.current }
    }
}

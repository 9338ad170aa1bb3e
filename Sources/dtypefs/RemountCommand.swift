import FuseKit
import LinuxKit

/// `mount -o remount,FLAGS MOUNTPOINT` on a dtypefs mount, which mount.fuse3 turns into
/// `dtypefs SOURCE MOUNTPOINT -o remount,...`: the mount point's flags (ro, nosuid, noatime,
/// nodiratime, ...) change by a bind remount; the running daemon's own options cannot change
/// without unmounting. Success is silent on the terminal, as every filesystem's remount is
/// (mount(8) replays fstab's options, and scripts such as xfstests compare the output): that the
/// daemon's options were kept goes to the log (journalctl -t dtypefs).
enum RemountCommand {
    static func run(_ request: MountRequest) -> Int32 {
        let mountpoint: String
        do throws(UsageError) {
            mountpoint = try MountCommand.resolvedDirectory(request.mountpoint, role: "mount point")
        } catch {
            MountCommand.printError("cannot remount: \(error.message)")
            return MountCommand.ExitStatus.failure
        }
        guard let entry = MountTable.current().topmost(at: mountpoint), entry.fileSystemType == "fuse.dtypefs" else {
            MountCommand.printError("cannot remount '\(mountpoint)': it is not a dtypefs mount (mount it first)")
            return MountCommand.ExitStatus.failure
        }
        var flags = MountPointFlags(options: entry.options)
        for option in request.options.mountPointFlags { flags.apply(option) }
        do throws(Errno) {
            try flags.set(on: mountpoint)
        } catch {
            MountCommand.printError("cannot remount '\(mountpoint)' with \(request.options.mountPointFlags.joined(separator: ",")): \(error)")
            return MountCommand.ExitStatus.failure
        }
        let kept = request.options.daemonOptionKeys
        if !kept.isEmpty {
            try? DaemonLog.configure(destination: .syslog, debug: false, label: mountpoint)
            DaemonLog.info("remounted with \(request.options.mountPointFlags.joined(separator: ",")); "
                           + "\(kept.joined(separator: ", ")) keep the values the mount was started with "
                           + "(unmount and mount again to change them)")
        }
        return MountCommand.ExitStatus.success
    }
}

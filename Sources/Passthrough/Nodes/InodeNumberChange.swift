import FuseKit
import Synchronization
import LinuxKit

/// With `inodes=stable`, a directory's name reaching a directory with another number is either a
/// directory replaced beside the mount or a backing whose numbers are not stable after all (CIFS
/// turning noserverino on by itself): said once, with the cure, since the second makes every
/// cwd inside fail.
enum InodeNumberChange {
    private static let noted = Atomic<Bool>(false)

    static func noteOnce() {
        guard !noted.exchange(true, ordering: .relaxed) else { return }
        DaemonLog.warning("a directory's name now reaches another inode number: replaced beside the mount, or the "
                          + "source's inode numbers are not stable (CIFS noserverino); if directories held open "
                          + "or used as a cwd start failing with ENOENT, mount with -o inodes=unstable")
    }
}

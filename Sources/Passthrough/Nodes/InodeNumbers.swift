/// Whether the backing's inode numbers identify its objects.
/// - `stable`: a number names one object while it exists (ext4, CIFS with serverino): nodes are
///   found by number, so hard links share one node and a name that now reaches another number is
///   another object.
/// - `unstable`: numbers are made up per client inode and change whenever the backing forgets it
///   (CIFS noserverino, which CIFS also turns on by itself; FUSE filesystems without use_ino):
///   nodes are found by name, a name keeps its node while it reaches an object of the same type,
///   and hard links are not recognised as one inode (each name is its own; its st_ino is the
///   number it was first seen with, fixed while the kernel holds it).
public enum InodeNumbers: String, Sendable, CaseIterable {
    case stable, unstable
}

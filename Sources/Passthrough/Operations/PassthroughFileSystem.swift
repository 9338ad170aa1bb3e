import Glibc
import CLinux
import FuseKit
import LinuxKit

/// The backing directory served through FUSE: every operation passes through to the backing
/// filesystem with its own result and errno; readdir reports types according to `DTypePolicy`.
/// It never sees libfuse, so it is tested on temp directories without mounting.
public final class PassthroughFileSystem: FileSystem {
    public let configuration: PassthroughConfiguration
    let tree: BackingTree
    let listings: Listings
    let openFiles = OpenFileTable()
    let removedObjects = RemovedObjects()
    let lockOwners = LockOwnerTable()
    let pageCacheStamps = PageCacheStamps()

    /// Opens the backing root now: mounting over the same path hides it afterwards.
    public init(source: String, configuration: PassthroughConfiguration) throws(Errno) {
        self.configuration = configuration
        tree = try BackingTree(path: source, inodes: configuration.inodes)
        listings = Listings(source: tree, configuration: configuration)
        // The kernel already applied the caller's umask; ours must not apply a second one.
        umask(0)
        CallerCredentials.prepare()
    }

    /// What readdir did (entries listed, types corrected, read-ahead used): logged at unmount and on SIGUSR1.
    public var listingStatistics: ListingStatistics { listings.statistics }

    public func initialize(_ settings: inout ConnectionSettings) {
        // READDIRPLUS replies carry verified attributes, so their d_type is right too; with
        // `unknown` or `passthrough` it would override the type we are asked to report.
        settings.readdirplus = configuration.dtype == .verify && configuration.readdirplus != .never
        settings.readdirplusAuto = configuration.readdirplus == .auto
        settings.posixACL = configuration.acl
    }

    /// Unmount: the listing pipeline's threads end and its parked descriptors close.
    public func destroy() {
        listings.stop()
    }

    /// A filesystem dropped without a session (unit tests) stops its threads too.
    deinit {
        listings.stop()
    }

    /// The number of inodes the kernel currently holds from us.
    public var knownNodeCount: Int { tree.nodes.count }

    func entry(for node: NodeID, _ status: stat) -> Entry {
        Entry(node: node, attributes: attributes(status, of: node),
              entryTimeout: configuration.entryTimeout, attrTimeout: configuration.attrTimeout)
    }

    /// The attributes the kernel gets for `node`. With unstable backing numbers st_ino is the
    /// number the node was first seen with, fixed while the kernel holds the inode, as CIFS
    /// noserverino numbers are (the backing's may change under a held cwd); hard links over a
    /// backing whose numbers are stable after all still show one number.
    func attributes(_ status: stat, of node: NodeID) -> Attributes {
        guard tree.nodes.inodes == .unstable, node != .none, let key = tree.nodes.key(of: node) else {
            return Attributes(status)
        }
        var numbered = status
        numbered.st_ino = UInt(key.inode)
        return Attributes(numbered)
    }

    /// lstat of `name` in `parent` and a node for it, with one more lookup.
    func lookUpEntry(directory: Int32, parent: NodeID, name: UnsafePointer<CChar>, nameBytes: [UInt8]) throws(Errno) -> Entry {
        let status = try SystemCall.status(in: directory, name)
        let node = tree.nodes.remember(parent: parent, name: nameBytes, key: InodeKey(status))
        return entry(for: node, status)
    }
}

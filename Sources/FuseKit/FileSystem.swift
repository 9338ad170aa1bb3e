import Glibc
import LinuxKit

/// The FUSE low-level contract in Swift: one requirement per libfuse operation, named after it.
/// Every requirement either returns its reply or throws the errno to reply; the bridge turns both
/// into exactly one FUSE reply. Implementations must be safe to call from many threads at once.
public protocol FileSystem: AnyObject, Sendable {
    /// Called once the kernel connection is up; adjust what the connection should use.
    func initialize(_ settings: inout ConnectionSettings)
    /// Called when the session ends (unmount).
    func destroy()

    // MARK: Namespace (FuseBridge's NamespaceOperations)
    func lookup(parent: NodeID, name: FileName) throws(Errno) -> Entry
    /// The kernel forgets `count` lookups of `node`.
    func forget(node: NodeID, count: UInt64)
    func readLink(node: NodeID) throws(Errno) -> [UInt8]
    func makeNode(parent: NodeID, name: FileName, mode: mode_t, device: dev_t, caller: Caller) throws(Errno) -> Entry
    func makeDirectory(parent: NodeID, name: FileName, mode: mode_t, caller: Caller) throws(Errno) -> Entry
    func unlink(parent: NodeID, name: FileName) throws(Errno)
    func removeDirectory(parent: NodeID, name: FileName) throws(Errno)
    func symlink(target: [UInt8], parent: NodeID, name: FileName, caller: Caller) throws(Errno) -> Entry
    func rename(parent: NodeID, name: FileName, newParent: NodeID, newName: FileName, flags: UInt32) throws(Errno)
    func link(node: NodeID, newParent: NodeID, newName: FileName) throws(Errno) -> Entry

    // MARK: Attributes (AttributeOperations)
    func getAttributes(node: NodeID, handle: UInt64?) throws(Errno) -> AttributesReply
    func setAttributes(node: NodeID, changes: AttributeChanges, handle: UInt64?, caller: Caller) throws(Errno) -> AttributesReply
    /// statfs.
    func fileSystemStatistics(node: NodeID) throws(Errno) -> FileSystemStatistics
    /// `caller`: setting an access ACL may clear the setgid bit, by the caller's rights.
    func setExtendedAttribute(node: NodeID, name: FileName, value: UnsafeRawBufferPointer, flags: Int32, caller: Caller) throws(Errno)
    func getExtendedAttribute(node: NodeID, name: FileName, size: Int) throws(Errno) -> ExtendedAttributeReply
    func listExtendedAttributes(node: NodeID, size: Int) throws(Errno) -> ExtendedAttributeReply
    func removeExtendedAttribute(node: NodeID, name: FileName) throws(Errno)

    // MARK: Files (FileOperations)
    func open(node: NodeID, flags: Int32, caller: Caller) throws(Errno) -> OpenReply
    func create(parent: NodeID, name: FileName, mode: mode_t, flags: Int32, caller: Caller) throws(Errno) -> (Entry, OpenReply)
    func read(node: NodeID, handle: UInt64, offset: Int64, size: Int) throws(Errno) -> ReadReply
    /// Writes by handing `copy` the backing descriptor to copy (or splice) the request's data into.
    /// `fromPageCache`: the kernel is writing back cached pages (mmap), not a write() call.
    func write(node: NodeID, handle: UInt64, fromPageCache: Bool, caller: Caller, _ copy: (Int32) throws(Errno) -> Int) throws(Errno) -> Int
    func flush(node: NodeID, handle: UInt64, lockOwner: UInt64) throws(Errno)
    func release(node: NodeID, handle: UInt64)
    func fsync(node: NodeID, handle: UInt64, dataOnly: Bool) throws(Errno)
    /// Returns whether attributes the kernel caches changed besides size and times (setuid/setgid
    /// bits cleared): the kernel keeps its cached mode across fallocate, so the bridge tells it.
    func fallocate(node: NodeID, handle: UInt64, mode: Int32, offset: Int64, length: Int64, caller: Caller) throws(Errno) -> Bool
    func copyFileRange(from source: (node: NodeID, handle: UInt64, offset: Int64),
                       to destination: (node: NodeID, handle: UInt64, offset: Int64),
                       length: Int, flags: Int32, caller: Caller) throws(Errno) -> Int
    func seek(node: NodeID, handle: UInt64, offset: Int64, whence: Int32) throws(Errno) -> Int64
    func getLock(node: NodeID, handle: UInt64, lock: RecordLock, owner: UInt64) throws(Errno) -> RecordLock
    /// `wait`: nil to fail at once on a conflict (EAGAIN); else wait for the lock until it is
    /// granted or the interruption is requested (EINTR). Waits run on their own thread.
    func setLock(node: NodeID, handle: UInt64, lock: RecordLock, owner: UInt64, wait: Interruption?) throws(Errno)
    /// `operation`: LOCK_SH, LOCK_EX or LOCK_UN, without LOCK_NB; `wait` as for setLock.
    func flock(node: NodeID, handle: UInt64, operation: Int32, wait: Interruption?) throws(Errno)

    // MARK: Directories (DirectoryOperations)
    /// Directories have no open handles: the kernel opens and releases them without asking us (one
    /// round trip per directory saved), so a listing is identified by its node and offset alone.
    func readDirectory<Sink: DirectorySink>(node: NodeID, offset: Int64, into sink: inout Sink) throws(Errno)
    func fsyncDirectory(node: NodeID, dataOnly: Bool) throws(Errno)
}

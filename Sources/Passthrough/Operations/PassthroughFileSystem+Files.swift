import Glibc
import CLinux
import FuseKit
import LinuxKit

// Open files: the handle is the backing descriptor itself, so read and write need no table lookup.
extension PassthroughFileSystem {
    /// The descriptor behind a handle: a file's handle is its descriptor. Directories have none and
    /// come as 0; descriptors 0–2 are the standard streams (libfuse keeps them open when mounting),
    /// so no open file ever has them.
    func fileDescriptor(_ handle: UInt64) -> Int32? {
        handle > 2 && handle <= UInt64(Int32.max) ? Int32(handle) : nil
    }

    func openFileDescriptor(_ handle: UInt64) throws(Errno) -> Int32 {
        guard let descriptor = fileDescriptor(handle) else { throw Errno.badFile }
        return descriptor
    }

    /// Flags the kernel may pass that would change what we open, or that only the kernel handles.
    /// O_DIRECT stays with the kernel: our buffers are not aligned for the backing file.
    private static func backingOpenFlags(_ flags: Int32) -> Int32 {
        flags & ~(O_CREAT | O_EXCL | O_NOCTTY | clinux_O_DIRECT)
    }

    /// An O_DIRECT open is not answered in direct-I/O mode: the kernel then sends its O_DIRECT
    /// reads and writes to us uncached all the same (its direct_IO path, which also clears
    /// setuid bits), while mmap of the file keeps working (direct-I/O mode refuses it, ENODEV).
    /// `keepCache`: the file did not change since its last open (see `PageCacheStamps`).
    private static func reply(for descriptor: Int32, keepCache: Bool = false) -> OpenReply {
        OpenReply(handle: UInt64(descriptor), directIO: false, keepCache: keepCache)
    }

    public func open(node: NodeID, flags: Int32, caller: Caller) throws(Errno) -> OpenReply {
        defer { if flags & O_TRUNC != 0 { listings.changed() } }
        let descriptor: Int32
        do throws(Errno) {
            descriptor = try tree.open(node, flags: Self.backingOpenFlags(flags) | (configuration.noatime ? clinux_O_NOATIME : 0)).release()
        } catch where error == Errno(EPERM) && configuration.noatime {
            // O_NOATIME needs the file's owner or CAP_FOWNER: without it, atime as the backing keeps it.
            descriptor = try tree.open(node, flags: Self.backingOpenFlags(flags)).release()
        }
        openFiles.add(descriptor, for: node)
        let unchanged: Bool
        if let status = try? SystemCall.status(of: descriptor) {
            unchanged = pageCacheStamps.opened(node, status, now: SystemCall.realtimeNanoseconds())
        } else {
            pageCacheStamps.forget(node)  // unknown attributes keep nothing, now or at the next open
            unchanged = false
        }
        return Self.reply(for: descriptor, keepCache: unchanged)
    }

    public func create(parent: NodeID, name: FileName, mode: mode_t, flags: Int32, caller: Caller) throws(Errno) -> (Entry, OpenReply) {
        defer { listings.changed() }
        return try tree.withEntry(parent, name) { (directory, cName) throws(Errno) -> (Entry, OpenReply) in
            let descriptor = try CallerCredentials.asCaller(caller, umask: configuration.acl) { () throws(Errno) -> Int32 in
                try SystemCall.open(in: directory, cName, flags: Self.backingOpenFlags(flags) | (flags & O_EXCL) | O_CREAT, mode: mode)
            }
            do throws(Errno) {
                let status = try SystemCall.status(of: descriptor)
                let node = tree.nodes.remember(parent: parent, name: name.bytes, key: InodeKey(status))
                openFiles.add(descriptor, for: node)
                return (entry(for: node, status), Self.reply(for: descriptor))
            } catch {
                SystemCall.close(descriptor)
                throw error
            }
        }
    }

    public func read(node: NodeID, handle: UInt64, offset: Int64, size: Int) throws(Errno) -> ReadReply {
        .fileRange(descriptor: try openFileDescriptor(handle), offset: offset, length: size)
    }

    public func write(node: NodeID, handle: UInt64, fromPageCache: Bool, caller: Caller,
                      _ copy: (Int32) throws(Errno) -> Int) throws(Errno) -> Int {
        defer { listings.changed() }
        let descriptor = try openFileDescriptor(handle)
        // Writeback of cached pages: the kernel cleared setuid bits when the pages were written.
        guard fromPageCache else {
            return try CallerCredentials.asWriter(caller) { () throws(Errno) -> Int in try copy(descriptor) }
        }
        // Page-cache writeback (mmap) may use any writable handle, O_APPEND ones included, where
        // pwrite would ignore the offset and append: write those pages through a plain descriptor.
        // Ordinary writes keep O_APPEND, so appends stay atomic for every client of the share.
        guard fcntl(descriptor, F_GETFL) & O_APPEND != 0 else { return try copy(descriptor) }
        let plain = try SystemCall.withProcPath(of: descriptor) { (path) throws(Errno) -> Int32 in
            try SystemCall.open(path: path, flags: O_WRONLY)
        }
        defer { SystemCall.close(plain) }
        return try copy(plain)
    }

    public func flush(node: NodeID, handle: UInt64, lockOwner: UInt64) throws(Errno) {
        lockOwners.release(node: node, owner: lockOwner)
        if let descriptor = fileDescriptor(handle) { lockOwners.noteFlushed(openFile: descriptor, node: node) }
        // Closing a duplicate flushes what a network filesystem buffers per close, as close() would,
        // while our descriptor stays open for other users of this open file.
        let duplicate = try SystemCall.duplicate(try openFileDescriptor(handle))
        try SystemCall.closeReportingErrors(duplicate)
    }

    public func release(node: NodeID, handle: UInt64) {
        if let descriptor = fileDescriptor(handle) {
            lockOwners.releaseAll(openFile: descriptor)
            openFiles.remove(descriptor, for: node)
            lockOwners.close(openFile: descriptor)
        }
    }

    public func fsync(node: NodeID, handle: UInt64, dataOnly: Bool) throws(Errno) {
        try SystemCall.synchronize(try openFileDescriptor(handle), dataOnly: dataOnly)
    }

    public func fallocate(node: NodeID, handle: UInt64, mode: Int32, offset: Int64, length: Int64, caller: Caller) throws(Errno) -> Bool {
        defer { listings.changed() }
        let descriptor = try openFileDescriptor(handle)
        let setID: mode_t = 0o6000  // S_ISUID | S_ISGID
        let before = try SystemCall.status(of: descriptor).st_mode & setID
        try CallerCredentials.asWriter(caller) { () throws(Errno) in
            try SystemCall.allocate(descriptor, mode: mode, offset: offset, length: length)
        }
        guard before != 0 else { return false }
        return (try? SystemCall.status(of: descriptor).st_mode & setID) != before
    }

    public func copyFileRange(from source: (node: NodeID, handle: UInt64, offset: Int64),
                              to destination: (node: NodeID, handle: UInt64, offset: Int64),
                              length: Int, flags: Int32, caller: Caller) throws(Errno) -> Int {
        defer { listings.changed() }
        let input = try openFileDescriptor(source.handle), output = try openFileDescriptor(destination.handle)
        return try CallerCredentials.asWriter(caller) { () throws(Errno) -> Int in
            try SystemCall.copyRange(from: input, offset: source.offset, to: output, offset: destination.offset,
                                     length: length, flags: UInt32(bitPattern: flags))
        }
    }

    public func seek(node: NodeID, handle: UInt64, offset: Int64, whence: Int32) throws(Errno) -> Int64 {
        try SystemCall.seek(try openFileDescriptor(handle), offset: offset, whence: whence)
    }

    // Locks are taken on backing descriptors, so other users of the share see them: flock on the
    // open file's own descriptor, POSIX record locks on the lock owner's (see LockOwnerTable).

    public func getLock(node: NodeID, handle: UInt64, lock: RecordLock, owner: UInt64) throws(Errno) -> RecordLock {
        let descriptor = try lockOwners.descriptor(node: node, owner: owner, openFile: try openFileDescriptor(handle))
        var description = Self.flockDescription(lock)
        try SystemCall.recordLock(descriptor, command: clinux_F_OFD_GETLK, &description)
        let holder = description.l_type == Int16(F_UNLCK) ? 0 : lockOwners.otherHolder(node: node, excluding: owner) ?? 0
        return RecordLock(type: description.l_type, start: Int64(description.l_start),
                          length: Int64(description.l_len), pid: holder)
    }

    public func setLock(node: NodeID, handle: UInt64, lock: RecordLock, owner: UInt64, wait: Interruption?) throws(Errno) {
        let descriptor = try lockOwners.descriptor(node: node, owner: owner, openFile: try openFileDescriptor(handle))
        var description = Self.flockDescription(lock)
        if let wait {
            try InterruptibleWait.run(wait) { clinux_fcntl_lock(descriptor, clinux_F_OFD_SETLKW, &description) }
        } else {
            try retryingAfterReleasesInFlight(node: node, handle: handle) { () throws(Errno) in
                try SystemCall.recordLock(descriptor, command: clinux_F_OFD_SETLK, &description)
            }
        }
        if lock.type != Int16(F_UNLCK) {
            lockOwners.noteLocked(node: node, owner: owner, pid: lock.pid, holdsLocks: true)
        }
    }

    public func flock(node: NodeID, handle: UInt64, operation: Int32, wait: Interruption?) throws(Errno) {
        let descriptor = try openFileDescriptor(handle)
        if let wait {
            try InterruptibleWait.run(wait) { clinux_flock(descriptor, operation & ~LOCK_NB) }
        } else {
            try retryingAfterReleasesInFlight(node: node, handle: handle) { () throws(Errno) in
                try SystemCall.flock(descriptor, operation: operation | LOCK_NB)
            }
        }
    }

    /// A non-blocking lock that conflicts is tried once more after the RELEASEs in flight of this
    /// node's lately closed files (see `LockOwnerTable`): their locks may be the conflict.
    private func retryingAfterReleasesInFlight(node: NodeID, handle: UInt64, _ lock: () throws(Errno) -> Void) throws(Errno) {
        do throws(Errno) {
            try lock()
        } catch where error == Errno(EAGAIN) || error == Errno(EACCES) {
            guard let descriptor = fileDescriptor(handle), lockOwners.awaitReleasesInFlight(node: node, besides: descriptor) else {
                throw error
            }
            try lock()
        }
    }

    private static func flockDescription(_ lock: RecordLock) -> Glibc.flock {
        var description = Glibc.flock()
        description.l_type = lock.type
        description.l_whence = Int16(SEEK_SET)
        description.l_start = off_t(lock.start)
        description.l_len = off_t(lock.length)
        description.l_pid = 0  // OFD locks require 0
        return description
    }
}

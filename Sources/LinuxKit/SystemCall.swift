import Glibc
import CLinux

// Each syscall is wrapped once: the raw call, `retryingInterrupts` turning -1 into Errno (and
// retrying EINTR), and a named function. Doc comments end with the C function's name. The calls
// whose failures matter most to listings (open, lstat, getdents, readlink) pass `SystemFault`,
// the one seam where tests make them fail.

@inline(__always)
public func retryingInterrupts<T: FixedWidthInteger>(_ call: () -> T) throws(Errno) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let code = errno
        if code != EINTR { throw Errno(code) }
    }
}

public enum SystemCall {
    /// Path resolution never leaves the directory, never follows a symlink or a /proc magic link.
    public static let beneathNoSymlinks: UInt64 = clinux_RESOLVE_BENEATH | clinux_RESOLVE_NO_SYMLINKS | clinux_RESOLVE_NO_MAGICLINKS

    /// Opens `path` relative to `directory`, refusing every symlink and any escape. `openat2`
    public static func openBeneath(_ directory: Int32, _ path: UnsafePointer<CChar>, flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        try SystemFault.check(.open)
        return try retryingInterrupts { clinux_openat2(directory, path, flags | O_CLOEXEC, mode, beneathNoSymlinks) }
    }

    /// Opens one name inside `directory` without following a final symlink. `openat`
    public static func open(in directory: Int32, _ name: UnsafePointer<CChar>, flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        try SystemFault.check(.open)
        return try retryingInterrupts { openat(directory, name, flags | O_CLOEXEC | O_NOFOLLOW, mode) }
    }

    /// Opens an absolute path, following links: for /proc paths of descriptors we hold and for
    /// what a user named on the command line. `open`
    public static func open(path: UnsafePointer<CChar>, flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        try SystemFault.check(.open)
        return try retryingInterrupts { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Closes a descriptor; never retried (Linux releases it even on EINTR). `close`
    /// EBADF means this process closed a descriptor twice or closed one it never had, which could
    /// have closed another thread's file: a bug, logged always and fatal in debug builds.
    public static func close(_ descriptor: Int32) {
        _ = closeReporting(descriptor)
    }

    /// Closes a descriptor and throws what the close reported (a network filesystem reports
    /// delayed write errors here); EINTR and EBADF as for `close`. `close`
    public static func closeReportingErrors(_ descriptor: Int32) throws(Errno) {
        if let error = closeReporting(descriptor) { throw error }
    }

    private static func closeReporting(_ descriptor: Int32) -> Errno? {
        guard Glibc.close(descriptor) == -1 else { return nil }
        let error = Errno.current
        if error.rawValue == EBADF {
            DaemonLog.error("bug: close(\(descriptor)) failed with EBADF (closed twice, or never open)")
            assertionFailure("close(\(descriptor)): EBADF")
        }
        return error.rawValue == EINTR || error.rawValue == EBADF ? nil : error
    }

    /// lstat of one name inside `directory`. `statx(AT_SYMLINK_NOFOLLOW)`, atime from the cache
    /// (see `clinux_lstat_at`)
    public static func status(in directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) -> stat {
        try SystemFault.check(.lstat)
        var result = stat()
        _ = try retryingInterrupts { clinux_lstat_at(directory, name, &result) }
        return result
    }

    /// lstat of one name without throwing, for the readdir hot path. `statx(AT_SYMLINK_NOFOLLOW)`
    @inline(__always)
    public static func statusIfPresent(in directory: Int32, _ name: UnsafePointer<CChar>, into result: inout stat) -> Bool {
        if SystemFault.isArmed, SystemFault.injected(.lstat) != nil { return false }
        while true {
            if clinux_lstat_at(directory, name, &result) == 0 { return true }
            if errno != EINTR { return false }
        }
    }

    /// stat of `name` in `directory`, following a final link (what it leads to). `fstatat`
    public static func statusFollowing(in directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) -> stat {
        try SystemFault.check(.lstat)
        var result = stat()
        _ = try retryingInterrupts { fstatat(directory, name, &result, 0) }
        return result
    }

    /// stat of an open descriptor (O_PATH ones included). `statx(AT_EMPTY_PATH)`, atime from the cache
    public static func status(of descriptor: Int32) throws(Errno) -> stat {
        var result = stat()
        _ = try retryingInterrupts { clinux_lstat_at(descriptor, "", &result) }
        return result
    }

    /// Device, inode and type of the object behind a descriptor, from the cache when possible. `statx`
    public static func identity(of descriptor: Int32) throws(Errno) -> (device: UInt64, inode: UInt64, type: FileType) {
        try identity(in: descriptor, "")
    }

    /// The identity of `name` in `directory`, never following a final link.
    public static func identity(in directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) -> (device: UInt64, inode: UInt64, type: FileType) {
        var device: UInt64 = 0, inode: UInt64 = 0, mode: UInt32 = 0
        _ = try retryingInterrupts { clinux_identity(directory, name, &device, &inode, &mode) }
        return (device, inode, FileType(mode: mode_t(mode)))
    }

    /// The /proc path that reaches exactly the object behind `descriptor`, for calls that have no
    /// descriptor-based form for O_PATH descriptors (chmod, xattrs, times).
    public static func withProcPath<R>(of descriptor: Int32, _ body: (UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
        var buffer = [CChar](repeating: 0, count: 32)
        let text = "/proc/self/fd/\(descriptor)"
        for (index, byte) in text.utf8.enumerated() { buffer[index] = CChar(bitPattern: byte) }
        return try buffer.withUnsafeBufferPointer { (chars) throws(Errno) -> R in try body(chars.baseAddress!) }
    }

    /// Calls `body` with NUL-terminated bytes (as the node table stores paths) as a C string.
    public static func withTerminated<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Errno) -> R in
            try buffer.withMemoryRebound(to: CChar.self) { (chars) throws(Errno) -> R in try body(chars.baseAddress!) }
        }
    }

    /// `mkdirat`
    public static func makeDirectory(in directory: Int32, _ name: UnsafePointer<CChar>, mode: mode_t) throws(Errno) {
        _ = try retryingInterrupts { mkdirat(directory, name, mode) }
    }

    /// `mknodat`
    public static func makeNode(in directory: Int32, _ name: UnsafePointer<CChar>, mode: mode_t, device: dev_t) throws(Errno) {
        _ = try retryingInterrupts { mknodat(directory, name, mode, device) }
    }

    /// `symlinkat`
    public static func makeSymbolicLink(target: UnsafePointer<CChar>, in directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) {
        _ = try retryingInterrupts { symlinkat(target, directory, name) }
    }

    /// Creates a hard link; never follows a symlink source. `linkat`
    public static func link(from directory: Int32, _ name: UnsafePointer<CChar>, to newDirectory: Int32, _ newName: UnsafePointer<CChar>) throws(Errno) {
        _ = try retryingInterrupts { linkat(directory, name, newDirectory, newName, 0) }
    }

    /// `unlinkat`
    public static func unlink(in directory: Int32, _ name: UnsafePointer<CChar>, flags: Int32) throws(Errno) {
        _ = try retryingInterrupts { unlinkat(directory, name, flags) }
    }

    /// `renameat2`
    public static func rename(from directory: Int32, _ name: UnsafePointer<CChar>, to newDirectory: Int32, _ newName: UnsafePointer<CChar>, flags: UInt32) throws(Errno) {
        _ = try retryingInterrupts { clinux_renameat2(directory, name, newDirectory, newName, flags) }
    }

    /// Reads a symlink's target through an O_PATH descriptor of the link itself. `readlinkat`
    public static func readLink(_ descriptor: Int32) throws(Errno) -> [UInt8] {
        try readLink(in: descriptor, "")
    }

    /// Reads the target of the link `name` in `directory` (`""`: the O_PATH descriptor itself). `readlinkat`
    public static func readLink(in directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) -> [UInt8] {
        try SystemFault.check(.readlink)
        var capacity = 4096
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = try buffer.withUnsafeMutableBufferPointer { (bytes) throws(Errno) -> Int in
                try retryingInterrupts { readlinkat(directory, name, UnsafeMutableRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self), capacity) }
            }
            if count < capacity { return Array(buffer[0..<count]) }
            capacity *= 2
        }
    }

    /// `fchmod` (on real descriptors) or `chmod` through /proc (on O_PATH ones).
    public static func changeMode(_ descriptor: Int32, mode: mode_t, isPathDescriptor: Bool) throws(Errno) {
        if isPathDescriptor {
            try withProcPath(of: descriptor) { (path) throws(Errno) in _ = try retryingInterrupts { chmod(path, mode) } }
        } else {
            _ = try retryingInterrupts { fchmod(descriptor, mode) }
        }
    }

    /// Changes owner of the object behind any descriptor, never following a link. `fchownat(AT_EMPTY_PATH)`
    public static func changeOwner(_ descriptor: Int32, uid: uid_t, gid: gid_t) throws(Errno) {
        _ = try retryingInterrupts { fchownat(descriptor, "", uid, gid, clinux_AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) }
    }

    /// `ftruncate`
    public static func truncate(_ descriptor: Int32, size: Int64) throws(Errno) {
        _ = try retryingInterrupts { ftruncate(descriptor, off_t(size)) }
    }

    /// `futimens` on a real descriptor.
    public static func setTimes(_ descriptor: Int32, _ times: UnsafePointer<timespec>) throws(Errno) {
        _ = try retryingInterrupts { futimens(descriptor, times) }
    }

    /// Sets times of one name in `directory` without following a link. `utimensat(AT_SYMLINK_NOFOLLOW)`
    public static func setTimes(in directory: Int32, _ name: UnsafePointer<CChar>, _ times: UnsafePointer<timespec>) throws(Errno) {
        _ = try retryingInterrupts { utimensat(directory, name, times, AT_SYMLINK_NOFOLLOW) }
    }

    /// `utimensat` through /proc for an O_PATH descriptor of a non-link.
    public static func setTimes(pathDescriptor descriptor: Int32, _ times: UnsafePointer<timespec>) throws(Errno) {
        try withProcPath(of: descriptor) { (path) throws(Errno) in _ = try retryingInterrupts { utimensat(AT_FDCWD, path, times, 0) } }
    }

    /// `fstatvfs`
    public static func fileSystemStatus(_ descriptor: Int32) throws(Errno) -> statvfs {
        var result = statvfs()
        _ = try retryingInterrupts { fstatvfs(descriptor, &result) }
        return result
    }

    /// CLOCK_REALTIME in nanoseconds: to compare with file timestamps.
    public static func realtimeNanoseconds() -> Int64 { nanoseconds(CLOCK_REALTIME) }

    /// CLOCK_MONOTONIC in nanoseconds: for ages and durations, never affected by clock changes.
    public static func monotonicNanoseconds() -> Int64 { nanoseconds(CLOCK_MONOTONIC) }

    private static func nanoseconds(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// `pread`-free read path is spliced by the bridge; `lseek` is all we need here.
    public static func seek(_ descriptor: Int32, offset: Int64, whence: Int32) throws(Errno) -> Int64 {
        Int64(try retryingInterrupts { lseek(descriptor, off_t(offset), whence) })
    }

    /// `fsync` / `fdatasync`
    public static func synchronize(_ descriptor: Int32, dataOnly: Bool) throws(Errno) {
        _ = try retryingInterrupts { dataOnly ? fdatasync(descriptor) : fsync(descriptor) }
    }

    /// `dup`
    public static func duplicate(_ descriptor: Int32) throws(Errno) -> Int32 {
        try retryingInterrupts { fcntl(descriptor, F_DUPFD_CLOEXEC, 0) }
    }

    /// `flock`
    public static func flock(_ descriptor: Int32, operation: Int32) throws(Errno) {
        _ = try retryingInterrupts { clinux_flock(descriptor, operation) }
    }

    /// Open-file-description record locks. `fcntl(F_OFD_*)`
    public static func recordLock(_ descriptor: Int32, command: Int32, _ lock: inout flock) throws(Errno) {
        _ = try retryingInterrupts { clinux_fcntl_lock(descriptor, command, &lock) }
    }

    /// `fallocate`
    public static func allocate(_ descriptor: Int32, mode: Int32, offset: Int64, length: Int64) throws(Errno) {
        _ = try retryingInterrupts { clinux_fallocate(descriptor, mode, offset, length) }
    }

    /// `copy_file_range`
    public static func copyRange(from source: Int32, offset sourceOffset: Int64, to destination: Int32, offset destinationOffset: Int64, length: Int, flags: UInt32) throws(Errno) -> Int {
        var input = sourceOffset
        var output = destinationOffset
        return try retryingInterrupts { clinux_copy_file_range(source, &input, destination, &output, length, flags) }
    }

    /// Fills `buffer` with raw dirent64 records (see `DirectoryEntries`); 0 at the end. `getdents64`
    public static func readDirectoryEntries(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try SystemFault.check(.getdents)
        return try retryingInterrupts { clinux_getdents64(descriptor, buffer.baseAddress, buffer.count) }
    }
}

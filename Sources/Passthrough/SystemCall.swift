import Glibc
import CLinux
import FuseKit

// Each syscall is wrapped once: the raw call, `retryingInterrupts` turning -1 into Errno (and
// retrying EINTR), and a named function. Doc comments end with the C function's name.

@inline(__always)
func retryingInterrupts<T: FixedWidthInteger>(_ call: () -> T) throws(Errno) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let code = errno
        if code != EINTR { throw Errno(code) }
    }
}

enum SystemCall {
    /// Path resolution never leaves the directory, never follows a symlink or a /proc magic link.
    static let beneathNoSymlinks: UInt64 = clinux_RESOLVE_BENEATH | clinux_RESOLVE_NO_SYMLINKS | clinux_RESOLVE_NO_MAGICLINKS

    /// Opens `path` relative to `directory`, refusing every symlink and any escape. `openat2`
    static func openBeneath(_ directory: Int32, _ path: UnsafePointer<CChar>, flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        try retryingInterrupts { clinux_openat2(directory, path, flags | O_CLOEXEC, mode, beneathNoSymlinks) }
    }

    /// Opens one name inside `directory` without following a final symlink. `openat`
    static func open(in directory: Int32, _ name: UnsafePointer<CChar>, flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        try retryingInterrupts { openat(directory, name, flags | O_CLOEXEC | O_NOFOLLOW, mode) }
    }

    /// Closes a descriptor; never retried (Linux releases it even on EINTR). `close`
    static func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }

    /// lstat of one name inside `directory`. `statx(AT_SYMLINK_NOFOLLOW)`, atime from the cache
    /// (see `clinux_lstat_at`)
    static func status(in directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) -> stat {
        var result = stat()
        _ = try retryingInterrupts { clinux_lstat_at(directory, name, &result) }
        return result
    }

    /// lstat of one name without throwing, for the readdir hot path. `statx(AT_SYMLINK_NOFOLLOW)`
    @inline(__always)
    static func statusIfPresent(in directory: Int32, _ name: UnsafePointer<CChar>, into result: inout stat) -> Bool {
        while true {
            if clinux_lstat_at(directory, name, &result) == 0 { return true }
            if errno != EINTR { return false }
        }
    }

    /// stat of an open descriptor (O_PATH ones included). `statx(AT_EMPTY_PATH)`, atime from the cache
    static func status(of descriptor: Int32) throws(Errno) -> stat {
        var result = stat()
        _ = try retryingInterrupts { clinux_lstat_at(descriptor, "", &result) }
        return result
    }

    /// Device, inode and type of the object behind a descriptor, from the cache when possible. `statx`
    static func identity(of descriptor: Int32) throws(Errno) -> InodeKey {
        var device: UInt64 = 0, inode: UInt64 = 0, mode: UInt32 = 0
        _ = try retryingInterrupts { clinux_identity(descriptor, &device, &inode, &mode) }
        return InodeKey(device: device, inode: inode, type: FileType(mode: mode_t(mode)))
    }

    /// The /proc path that reaches exactly the object behind `descriptor`, for calls that have no
    /// descriptor-based form for O_PATH descriptors (chmod, xattrs, times).
    static func withProcPath<R>(of descriptor: Int32, _ body: (UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
        var buffer = [CChar](repeating: 0, count: 32)
        let text = "/proc/self/fd/\(descriptor)"
        for (index, byte) in text.utf8.enumerated() { buffer[index] = CChar(bitPattern: byte) }
        return try buffer.withUnsafeBufferPointer { (chars) throws(Errno) -> R in try body(chars.baseAddress!) }
    }

    /// Calls `body` with NUL-terminated bytes (as the node table stores paths) as a C string.
    static func withTerminated<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws(Errno) -> R) throws(Errno) -> R {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Errno) -> R in
            try buffer.withMemoryRebound(to: CChar.self) { (chars) throws(Errno) -> R in try body(chars.baseAddress!) }
        }
    }

    /// `mkdirat`
    static func makeDirectory(in directory: Int32, _ name: UnsafePointer<CChar>, mode: mode_t) throws(Errno) {
        _ = try retryingInterrupts { mkdirat(directory, name, mode) }
    }

    /// `mknodat`
    static func makeNode(in directory: Int32, _ name: UnsafePointer<CChar>, mode: mode_t, device: dev_t) throws(Errno) {
        _ = try retryingInterrupts { mknodat(directory, name, mode, device) }
    }

    /// `symlinkat`
    static func makeSymbolicLink(target: UnsafePointer<CChar>, in directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) {
        _ = try retryingInterrupts { symlinkat(target, directory, name) }
    }

    /// Creates a hard link; never follows a symlink source. `linkat`
    static func link(from directory: Int32, _ name: UnsafePointer<CChar>, to newDirectory: Int32, _ newName: UnsafePointer<CChar>) throws(Errno) {
        _ = try retryingInterrupts { linkat(directory, name, newDirectory, newName, 0) }
    }

    /// `unlinkat`
    static func unlink(in directory: Int32, _ name: UnsafePointer<CChar>, flags: Int32) throws(Errno) {
        _ = try retryingInterrupts { unlinkat(directory, name, flags) }
    }

    /// `renameat2`
    static func rename(from directory: Int32, _ name: UnsafePointer<CChar>, to newDirectory: Int32, _ newName: UnsafePointer<CChar>, flags: UInt32) throws(Errno) {
        _ = try retryingInterrupts { clinux_renameat2(directory, name, newDirectory, newName, flags) }
    }

    /// Reads a symlink's target through an O_PATH descriptor of the link itself. `readlinkat`
    static func readLink(_ descriptor: Int32) throws(Errno) -> [UInt8] {
        try readLink(in: descriptor, "")
    }

    /// Reads the target of the link `name` in `directory` (`""`: the O_PATH descriptor itself). `readlinkat`
    static func readLink(in directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) -> [UInt8] {
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
    static func changeMode(_ descriptor: Int32, mode: mode_t, isPathDescriptor: Bool) throws(Errno) {
        if isPathDescriptor {
            try withProcPath(of: descriptor) { (path) throws(Errno) in _ = try retryingInterrupts { chmod(path, mode) } }
        } else {
            _ = try retryingInterrupts { fchmod(descriptor, mode) }
        }
    }

    /// Changes owner of the object behind any descriptor, never following a link. `fchownat(AT_EMPTY_PATH)`
    static func changeOwner(_ descriptor: Int32, uid: uid_t, gid: gid_t) throws(Errno) {
        _ = try retryingInterrupts { fchownat(descriptor, "", uid, gid, clinux_AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) }
    }

    /// `ftruncate`
    static func truncate(_ descriptor: Int32, size: Int64) throws(Errno) {
        _ = try retryingInterrupts { ftruncate(descriptor, off_t(size)) }
    }

    /// `futimens` on a real descriptor.
    static func setTimes(_ descriptor: Int32, _ times: UnsafePointer<timespec>) throws(Errno) {
        _ = try retryingInterrupts { futimens(descriptor, times) }
    }

    /// Sets times of one name in `directory` without following a link. `utimensat(AT_SYMLINK_NOFOLLOW)`
    static func setTimes(in directory: Int32, _ name: UnsafePointer<CChar>, _ times: UnsafePointer<timespec>) throws(Errno) {
        _ = try retryingInterrupts { utimensat(directory, name, times, AT_SYMLINK_NOFOLLOW) }
    }

    /// `utimensat` through /proc for an O_PATH descriptor of a non-link.
    static func setTimes(pathDescriptor descriptor: Int32, _ times: UnsafePointer<timespec>) throws(Errno) {
        try withProcPath(of: descriptor) { (path) throws(Errno) in _ = try retryingInterrupts { utimensat(AT_FDCWD, path, times, 0) } }
    }

    /// `fstatvfs`
    static func fileSystemStatus(_ descriptor: Int32) throws(Errno) -> statvfs {
        var result = statvfs()
        _ = try retryingInterrupts { fstatvfs(descriptor, &result) }
        return result
    }

    /// CLOCK_MONOTONIC in nanoseconds: for ages and durations, never affected by clock changes.
    static func monotonicNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// `pread`-free read path is spliced by the bridge; `lseek` is all we need here.
    static func seek(_ descriptor: Int32, offset: Int64, whence: Int32) throws(Errno) -> Int64 {
        Int64(try retryingInterrupts { lseek(descriptor, off_t(offset), whence) })
    }

    /// `fsync` / `fdatasync`
    static func synchronize(_ descriptor: Int32, dataOnly: Bool) throws(Errno) {
        _ = try retryingInterrupts { dataOnly ? fdatasync(descriptor) : fsync(descriptor) }
    }

    /// `dup`
    static func duplicate(_ descriptor: Int32) throws(Errno) -> Int32 {
        try retryingInterrupts { fcntl(descriptor, F_DUPFD_CLOEXEC, 0) }
    }

    /// `flock`
    static func flock(_ descriptor: Int32, operation: Int32) throws(Errno) {
        _ = try retryingInterrupts { clinux_flock(descriptor, operation) }
    }

    /// Open-file-description record locks. `fcntl(F_OFD_*)`
    static func recordLock(_ descriptor: Int32, command: Int32, _ lock: inout flock) throws(Errno) {
        _ = try retryingInterrupts { clinux_fcntl_lock(descriptor, command, &lock) }
    }

    /// `fallocate`
    static func allocate(_ descriptor: Int32, mode: Int32, offset: Int64, length: Int64) throws(Errno) {
        _ = try retryingInterrupts { clinux_fallocate(descriptor, mode, offset, length) }
    }

    /// `copy_file_range`
    static func copyRange(from source: Int32, offset sourceOffset: Int64, to destination: Int32, offset destinationOffset: Int64, length: Int, flags: UInt32) throws(Errno) -> Int {
        var input = sourceOffset
        var output = destinationOffset
        return try retryingInterrupts { clinux_copy_file_range(source, &input, destination, &output, length, flags) }
    }

    /// `getdents64`
    static func readDirectoryEntries(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try retryingInterrupts { clinux_getdents64(descriptor, buffer.baseAddress, buffer.count) }
    }
}

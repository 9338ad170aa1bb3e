import CLinux
import Glibc

/// The handful of system calls the check makes, each wrapped once: `-1` becomes a thrown
/// `SystemError` and `EINTR` is retried (never for close, whose fd is gone either way).
enum Syscall {
    /// Runs `body` until it does not fail with EINTR; throws the errno of any other failure.
    @inline(__always)
    static func retrying<T: BinaryInteger>(_ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            if errno != EINTR { throw SystemError.current }
        }
    }

    /// Opens a directory named on the command line. Follows a symlink there, as `find -H` does:
    /// the user named it on purpose; nothing below it is followed. `open(2)`
    static func openDirectory(path: [UInt8]) throws(SystemError) -> Int32 {
        try withCString(path) { (cPath) throws(SystemError) -> Int32 in
            try retrying { open(cPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK) }
        }
    }

    /// Opens the subdirectory `name` of `parent` without following a symlink, so a link swapped in
    /// after lstat cannot lead the walk elsewhere. `openat(2)`
    static func openSubdirectory(parent: Int32, name: UnsafePointer<CChar>) throws(SystemError) -> Int32 {
        try retrying { openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
    }

    /// The entry's own status; a symlink is reported as a symlink. `fstatat(2)` with AT_SYMLINK_NOFOLLOW
    static func lstat(parent: Int32, name: UnsafePointer<CChar>) throws(SystemError) -> Glibc.stat {
        var status = Glibc.stat()
        _ = try retrying { fstatat(parent, name, &status, AT_SYMLINK_NOFOLLOW) }
        return status
    }

    /// The status of what the entry leads to, following symlinks. `fstatat(2)`
    static func statFollowing(parent: Int32, name: UnsafePointer<CChar>) throws(SystemError) -> Glibc.stat {
        var status = Glibc.stat()
        _ = try retrying { fstatat(parent, name, &status, 0) }
        return status
    }

    /// The status of an open file. `fstat(2)`
    static func fstat(_ fd: Int32) throws(SystemError) -> Glibc.stat {
        var status = Glibc.stat()
        _ = try retrying { Glibc.fstat(fd, &status) }
        return status
    }

    /// A symlink's target bytes, exactly (no terminator). `readlinkat(2)`
    static func readlink(parent: Int32, name: UnsafePointer<CChar>) throws(SystemError) -> [UInt8] {
        // PATH_MAX covers every Linux target; grow anyway in case a filesystem returns more.
        var capacity = Int(PATH_MAX)
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let length = try retrying { readlinkat(parent, name, &buffer, capacity) }
            if length < capacity { return buffer[..<length].map { UInt8(bitPattern: $0) } }
            capacity *= 2
        }
    }

    /// Fills `buffer` with raw dirent64 records; 0 at the end of the directory. `getdents64(2)`
    static func getdents(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try retrying { clinux_getdents64(fd, buffer.baseAddress, buffer.count) }
    }

    /// Closes without retrying: after EINTR the descriptor is already released on Linux. `close(2)`
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Calls `body` with `bytes` as a NUL-terminated C string.
    static func withCString<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws(SystemError) -> T) throws(SystemError) -> T {
        var terminated = bytes
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { (buffer) throws(SystemError) -> T in
            try buffer.withMemoryRebound(to: CChar.self) { (chars) throws(SystemError) -> T in
                try body(chars.baseAddress!)
            }
        }
    }
}

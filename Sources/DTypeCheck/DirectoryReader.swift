import CLinux
import Glibc

/// Reads a directory's entries straight from getdents64, so each `dType` is exactly the byte the
/// kernel (and below it the filesystem) reported, with no libc layer that might fill it in.
///
/// Owns its descriptor: the directory stays open while the reader lives, so entries can be
/// lstat'ed relative to `fd` and a rename of the directory's path cannot redirect the check.
final class DirectoryReader {
    /// One record of the current getdents64 batch. `name` is NUL-terminated and points into the
    /// reader's buffer: it is valid only until the next call to `next()`.
    struct Record {
        let name: UnsafePointer<CChar>
        let dType: UInt8

        /// The name's bytes, copied out of the reader's buffer.
        var nameBytes: [UInt8] {
            let length = strlen(name)
            return name.withMemoryRebound(to: UInt8.self, capacity: length) {
                Array(UnsafeBufferPointer(start: $0, count: length))
            }
        }
    }

    let fd: Int32
    // 64 KiB: a network filesystem answers one getdents64 per buffer, so bigger means fewer trips.
    private let buffer: UnsafeMutableRawBufferPointer
    private var length = 0
    private var position = 0

    /// Takes ownership of `fd`, an open directory.
    init(fd: Int32, bufferSize: Int = 64 * 1024) {
        self.fd = fd
        self.buffer = .allocate(byteCount: bufferSize, alignment: 8)
    }

    deinit {
        buffer.deallocate()
        Syscall.close(fd)
    }

    /// The next entry other than `.` and `..`, or nil at the end of the directory.
    func next() throws(SystemError) -> Record? {
        while true {
            if position >= length {
                length = try Syscall.getdents(fd, buffer)
                position = 0
                if length == 0 { return nil }
            }
            var dirent = clinux_dirent()
            let following = clinux_dirent_at(buffer.baseAddress, length, position, &dirent)
            // A zero-length record would loop forever; treat a malformed buffer as an I/O error.
            guard following > position else { throw SystemError(EIO) }
            position = following
            if Self.isDotOrDotDot(dirent.name) { continue }
            return Record(name: dirent.name, dType: dirent.type)
        }
    }

    private static func isDotOrDotDot(_ name: UnsafePointer<CChar>) -> Bool {
        name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
    }
}

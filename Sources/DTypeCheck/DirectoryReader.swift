import Glibc
import LinuxKit

/// Reads a directory's entries straight from getdents64, so each `type` is exactly the byte the
/// kernel (and below it the filesystem) reported, with no libc layer that might fill it in.
///
/// Owns its descriptor: the directory stays open while the reader lives, so entries can be
/// lstat'ed relative to `fd` and a rename of the directory's path cannot redirect the check.
final class DirectoryReader {
    typealias Record = DirectoryEntries.Entry

    private let descriptor: FileDescriptor
    var fd: Int32 { descriptor.rawValue }
    // A network filesystem answers one getdents64 per buffer, so bigger means fewer trips.
    private let buffer: UnsafeMutableRawBufferPointer
    private var batch: DirectoryEntries.Iterator?

    /// Takes ownership of `fd`, an open directory.
    init(fd: Int32, bufferSize: Int = 64 * 1024) {
        descriptor = FileDescriptor(owning: fd)
        self.buffer = .allocate(byteCount: bufferSize, alignment: 8)
    }

    deinit {
        buffer.deallocate()
    }

    /// Opens a directory named on the command line. Follows a symlink there, as `find -H` does:
    /// the user named it on purpose; nothing below it is followed.
    static func open(path: [UInt8], bufferSize: Int = 64 * 1024) throws(Errno) -> DirectoryReader {
        let fd = try SystemCall.withTerminated(path + [0]) { (cPath) throws(Errno) -> Int32 in
            try SystemCall.open(path: cPath, flags: O_RDONLY | O_DIRECTORY | O_NONBLOCK)
        }
        return DirectoryReader(fd: fd, bufferSize: bufferSize)
    }

    /// Opens the subdirectory `name` without following a symlink, so a link swapped in after
    /// lstat cannot lead the walk elsewhere.
    func openSubdirectory(_ name: [UInt8]) throws(Errno) -> DirectoryReader {
        let fd = try SystemCall.withTerminated(name + [0]) { (cName) throws(Errno) -> Int32 in
            try SystemCall.open(in: self.fd, cName, flags: O_RDONLY | O_DIRECTORY | O_NONBLOCK)
        }
        return DirectoryReader(fd: fd)
    }

    /// The next entry other than `.` and `..`, or nil at the end of the directory. Its name points
    /// into the reader's buffer: valid only until the next call.
    func next() throws(Errno) -> Record? {
        while true {
            if let entry = batch?.next() {
                if entry.isDotOrDotDot { continue }
                return entry
            }
            // A batch that stopped short of its end holds a malformed record: an I/O error.
            if let batch, !batch.reachedEnd { throw Errno.ioError }
            let length = try SystemCall.readDirectoryEntries(fd, into: buffer)
            if length == 0 { return nil }
            batch = DirectoryEntries(UnsafeRawBufferPointer(rebasing: buffer[..<length])).makeIterator()
        }
    }
}

extension DirectoryEntries.Entry {
    /// The name's bytes, copied out of the reader's buffer.
    var nameBytes: [UInt8] {
        let length = strlen(name)
        return name.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }
}

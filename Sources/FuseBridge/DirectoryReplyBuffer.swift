import Glibc
import CFuse
import FuseKit
import LinuxKit

/// The reply buffer of one readdir/readdirplus request, packed with libfuse's dirent encoders.
struct DirectoryReplyBuffer: DirectorySink {
    let request: fuse_req_t
    let wantsAttributes: Bool
    private let storage: UnsafeMutableRawBufferPointer
    private(set) var used = 0

    init(request: fuse_req_t, capacity: Int, plus: Bool) {
        self.request = request
        wantsAttributes = plus
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 8)
    }

    func deallocate() { storage.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<used]) }

    /// A READDIR dirent of a short name takes about 32 bytes; a READDIRPLUS one about 160.
    var remainingCapacityHint: Int { (storage.count - used) / (wantsAttributes ? 160 : 32) + 1 }

    private var free: (UnsafeMutablePointer<CChar>, Int) {
        ((storage.baseAddress! + used).assumingMemoryBound(to: CChar.self), storage.count - used)
    }

    mutating func add(name: UnsafePointer<CChar>, inode: UInt64, type: FileType, nextOffset: Int64) -> Bool {
        var status = stat()
        status.st_ino = UInt(inode)
        status.st_mode = mode_t(type.rawValue) << 12
        let (destination, remaining) = free
        let size = fuse_add_direntry(request, destination, remaining, name, &status, off_t(nextOffset))
        guard size <= remaining else { return false }
        used += size
        return true
    }

    mutating func add(name: UnsafePointer<CChar>, entry: Entry, nextOffset: Int64) -> Bool {
        var parameters = FuseEncoding.entryParameters(entry)
        let (destination, remaining) = free
        let size = fuse_add_direntry_plus(request, destination, remaining, name, &parameters, off_t(nextOffset))
        guard size <= remaining else { return false }
        used += size
        return true
    }
}

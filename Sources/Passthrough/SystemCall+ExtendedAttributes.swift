#if canImport(Glibc)
import Glibc
#endif
import CLinux
import FuseKit

// xattr calls go through /proc/self/fd/N of an O_PATH descriptor: the magic link reaches exactly
// the object we resolved safely, and O_PATH descriptors have no f*xattr form.
extension SystemCall {
    /// `getxattr`
    static func getExtendedAttribute(_ descriptor: Int32, name: UnsafePointer<CChar>, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try withProcPath(of: descriptor) { (path) throws(Errno) -> Int in
            try retryingInterrupts { getxattr(path, name, buffer.baseAddress, buffer.count) }
        }
    }

    /// `setxattr`
    static func setExtendedAttribute(_ descriptor: Int32, name: UnsafePointer<CChar>, value: UnsafeRawBufferPointer, flags: Int32) throws(Errno) {
        try withProcPath(of: descriptor) { (path) throws(Errno) in
            _ = try retryingInterrupts { setxattr(path, name, value.baseAddress, value.count, flags) }
        }
    }

    /// `listxattr`
    static func listExtendedAttributes(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try withProcPath(of: descriptor) { (path) throws(Errno) -> Int in
            try retryingInterrupts { listxattr(path, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count) }
        }
    }

    /// `removexattr`
    static func removeExtendedAttribute(_ descriptor: Int32, name: UnsafePointer<CChar>) throws(Errno) {
        try withProcPath(of: descriptor) { (path) throws(Errno) in
            _ = try retryingInterrupts { removexattr(path, name) }
        }
    }
}

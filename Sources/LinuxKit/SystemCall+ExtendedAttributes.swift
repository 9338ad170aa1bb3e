import Glibc
import CLinux

// xattr calls name their object by a /proc path built by the caller (see ExtendedAttributeTarget):
// O_PATH descriptors have no f*xattr form. `followsLast` picks getxattr or lgetxattr.
extension SystemCall {
    /// `getxattr` / `lgetxattr`
    public static func getExtendedAttribute(_ path: UnsafePointer<CChar>, followsLast: Bool, name: UnsafePointer<CChar>,
                                     into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try retryingInterrupts {
            followsLast ? getxattr(path, name, buffer.baseAddress, buffer.count) : lgetxattr(path, name, buffer.baseAddress, buffer.count)
        }
    }

    /// `setxattr` / `lsetxattr`
    public static func setExtendedAttribute(_ path: UnsafePointer<CChar>, followsLast: Bool, name: UnsafePointer<CChar>,
                                     value: UnsafeRawBufferPointer, flags: Int32) throws(Errno) {
        _ = try retryingInterrupts {
            followsLast ? setxattr(path, name, value.baseAddress, value.count, flags) : lsetxattr(path, name, value.baseAddress, value.count, flags)
        }
    }

    /// `listxattr` / `llistxattr`
    public static func listExtendedAttributes(_ path: UnsafePointer<CChar>, followsLast: Bool, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        let list = buffer.baseAddress?.assumingMemoryBound(to: CChar.self)
        return try retryingInterrupts { followsLast ? listxattr(path, list, buffer.count) : llistxattr(path, list, buffer.count) }
    }

    /// `removexattr` / `lremovexattr`
    public static func removeExtendedAttribute(_ path: UnsafePointer<CChar>, followsLast: Bool, name: UnsafePointer<CChar>) throws(Errno) {
        _ = try retryingInterrupts { followsLast ? removexattr(path, name) : lremovexattr(path, name) }
    }
}

import Glibc

/// A POSIX error number: what every filesystem operation throws and what FUSE replies.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    @inlinable public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    @inlinable public static var current: Errno { Errno(errno) }

    public var description: String { String(cString: strerror(rawValue)) }

    public static let noEntry = Errno(ENOENT)
    public static let ioError = Errno(EIO)
    public static let invalid = Errno(EINVAL)
    public static let exists = Errno(EEXIST)
    public static let notDirectory = Errno(ENOTDIR)
    public static let notSupported = Errno(EOPNOTSUPP)
    public static let notImplemented = Errno(ENOSYS)
    public static let badFile = Errno(EBADF)
    public static let permission = Errno(EPERM)
    public static let readOnly = Errno(EROFS)
    public static let rangeTooSmall = Errno(ERANGE)
    public static let nameTooLong = Errno(ENAMETOOLONG)
}

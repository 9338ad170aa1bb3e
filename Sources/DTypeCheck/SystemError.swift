import Glibc

/// A failed system call's errno, with the C library's wording for messages.
struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    let code: Int32

    init(_ code: Int32) { self.code = code }

    /// The errno left by the call that just failed.
    static var current: SystemError { SystemError(errno) }

    var description: String { String(cString: strerror(code)) }
}

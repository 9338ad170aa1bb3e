import CFuse
import FuseKit

/// What every callback reaches through the session's userdata pointer.
final class SessionContext: @unchecked Sendable {
    let fileSystem: any FileSystem
    /// The kernel understood "opendir is not implemented" (FUSE_CAP_NO_OPENDIR_SUPPORT, Linux 5.1):
    /// it then opens and releases directories without sending us OPENDIR and RELEASEDIR at all.
    /// Set once in init, before any other request.
    var kernelOpensDirectories = false
    /// The libfuse session, for notifications to the kernel; set once it exists, before mounting.
    var session: OpaquePointer?

    init(fileSystem: any FileSystem) {
        self.fileSystem = fileSystem
    }

    static func from(_ request: fuse_req_t) -> SessionContext {
        Unmanaged<SessionContext>.fromOpaque(fuse_req_userdata(request)!).takeUnretainedValue()
    }
}

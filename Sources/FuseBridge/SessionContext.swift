import CFuse
import FuseKit

/// What every callback reaches through the session's userdata pointer.
final class SessionContext: @unchecked Sendable {
    let fileSystem: any FileSystem

    init(fileSystem: any FileSystem) {
        self.fileSystem = fileSystem
    }

    static func from(_ request: fuse_req_t) -> SessionContext {
        Unmanaged<SessionContext>.fromOpaque(fuse_req_userdata(request)!).takeUnretainedValue()
    }
}

import Glibc
import CFuse
import FuseKit

/// A libfuse session: created, mounted, optionally detached, served until unmounted or signalled.
public final class FuseSession {
    public enum SessionError: Error, CustomStringConvertible {
        case rejectedOptions(String)
        case mountFailed(String)

        public var description: String {
            switch self {
            case let .rejectedOptions(options): "libfuse rejected the mount options: \(options)"
            case let .mountFailed(mountpoint): "cannot mount at \(mountpoint) (see the message above)"
            }
        }
    }

    /// The libfuse this binary runs with (`--version` says it: 3.14 or newer is needed).
    public static var libraryVersion: String { String(cString: fuse_pkgversion()) }

    private let context: SessionContext
    private let configuration: MountConfiguration
    private let session: OpaquePointer
    private var mounted = false

    public init(fileSystem: any FileSystem, configuration: MountConfiguration) throws(SessionError) {
        let context = SessionContext(fileSystem: fileSystem)
        var operations = FuseOperations.table()
        var arguments = ["dtypefs", "-o", configuration.libfuseOptions]
        if configuration.debug { arguments.append("-d") }
        let created = Self.withArguments(arguments) { args in
            // libfuse copies the table; the context lives as long as this session object.
            fuse_session_new(args, &operations, MemoryLayout<fuse_lowlevel_ops>.size,
                             Unmanaged.passUnretained(context).toOpaque())
        }
        self.context = context
        self.configuration = configuration
        guard let created else { throw .rejectedOptions(configuration.libfuseOptions) }
        session = created
        context.session = created
    }

    deinit {
        if mounted { fuse_session_unmount(session) }
        fuse_session_destroy(session)
    }

    /// Mounts; SIGINT, SIGTERM and SIGHUP then end the loop and unmount cleanly.
    public func mount() throws(SessionError) {
        guard fuse_set_signal_handlers(session) == 0 else { throw .mountFailed(configuration.mountpoint) }
        guard fuse_session_mount(session, configuration.mountpoint) == 0 else {
            fuse_remove_signal_handlers(session)
            throw .mountFailed(configuration.mountpoint)
        }
        mounted = true
    }

    /// Detaches from the terminal once mounted: the parent exits 0 only after this point, so the
    /// mount is up when `dtypefs` (or mount(8)) returns.
    public func detach() {
        _ = fuse_daemonize(0)
    }

    /// Serves requests until unmount or a signal; returns the signal number that ended it, 0 for an
    /// unmount, or a negative errno on failure.
    public func run() -> Int32 {
        let result: Int32
        if configuration.maxThreads <= 1 {
            result = fuse_session_loop(session)
        } else {
            let loopConfiguration = fuse_loop_cfg_create()
            fuse_loop_cfg_set_max_threads(loopConfiguration, UInt32(configuration.maxThreads))
            fuse_loop_cfg_set_idle_threads(loopConfiguration, UInt32(max(1, configuration.maxThreads / 2)))
            result = cfuse_session_loop_mt(session, loopConfiguration)
            fuse_loop_cfg_destroy(loopConfiguration)
        }
        fuse_remove_signal_handlers(session)
        if mounted {
            fuse_session_unmount(session)
            mounted = false
        }
        return result
    }

    private static func withArguments<R>(_ arguments: [String], _ body: (UnsafeMutablePointer<fuse_args>) -> R) -> R {
        var cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        return cStrings.withUnsafeMutableBufferPointer { buffer in
            var args = fuse_args(argc: Int32(arguments.count), argv: buffer.baseAddress, allocated: 0)
            let result = body(&args)
            fuse_opt_free_args(&args)
            return result
        }
    }
}

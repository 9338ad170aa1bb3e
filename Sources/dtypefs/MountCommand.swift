import Glibc
import CLinux
import FuseBridge
import FuseKit
import Passthrough
import LinuxKit

/// Mounts SOURCE at MOUNTPOINT and serves until unmounted. Everything that can be wrong is checked
/// before mounting, so a failure leaves nothing mounted and says what was wrong.
enum MountCommand {
    enum ExitStatus {
        static let success: Int32 = 0
        static let failure: Int32 = 1
        static let usage: Int32 = 2
    }

    static func run(_ request: MountRequest) -> Int32 {
        if request.options.remount { return RemountCommand.run(request) }
        limitMallocArenas()
        let source: String, mountpoint: String
        do throws(UsageError) {
            source = try resolvedDirectory(request.source, role: "source")
            mountpoint = try resolvedDirectory(request.mountpoint, role: "mount point")
        } catch {
            printError(error.message)
            return ExitStatus.failure
        }
        let options = request.options
        for note in options.notes { printError(note) }
        let table = MountTable.current()
        let warnings: [String]
        switch MountPreflight.check(source: source, mountpoint: mountpoint, fsname: options.fsname ?? source,
                                    requireMountpoint: options.requireMountpoint, table: table) {
        case let .refuse(message):
            printError(message)
            return ExitStatus.failure
        case let .proceed(found):
            warnings = found + [MountPreflight.logWarning(foreground: request.foreground, logfile: options.logfile)].compactMap { $0 }
        }
        for warning in warnings { printError(warning) }
        var passthroughConfiguration = options.passthrough
        passthroughConfiguration.noatime = MountPointFlags(options: options.mountPointFlags).bits & UInt32(CLINUX_MOUNT_NOATIME) != 0
        let inodeChoice = options.inodes.map { ($0, "as asked") }
            ?? InodeNumbersChoice.automatic(forSource: source, in: table)
        passthroughConfiguration.inodes = inodeChoice.0

        var mountConfiguration = MountConfiguration(
            mountpoint: mountpoint, fsname: options.fsname ?? source,
            allowOther: options.allowOther ?? (geteuid() == 0))
        mountConfiguration.readOnly = options.readOnly
        mountConfiguration.mountFlags = options.mountFlags
        mountConfiguration.maxThreads = options.maxThreads
        mountConfiguration.debug = request.debug
        mountConfiguration.autoUnmount = options.autoUnmount

        do throws(Errno) {
            try DaemonLog.configure(destination: options.logfile.map { .file($0) } ?? .standardError, debug: request.debug,
                                    label: mountpoint)
        } catch {
            printError("cannot open log file '\(options.logfile ?? "")': \(error)")
            return ExitStatus.failure
        }
        let fileSystem: PassthroughFileSystem
        let session: FuseSession
        do throws(Errno) {
            // Opened before mounting: with SOURCE == MOUNTPOINT the mount hides the path afterwards.
            fileSystem = try PassthroughFileSystem(source: source, configuration: passthroughConfiguration)
        } catch {
            printError("cannot open source '\(source)': \(error)")
            return ExitStatus.failure
        }
        do throws(FuseSession.SessionError) {
            session = try FuseSession(fileSystem: fileSystem, configuration: mountConfiguration)
            try session.mount()
        } catch {
            printError("\(error)")
            return ExitStatus.failure
        }
        // Flags libfuse cannot pass (nodiratime, strictatime): set now, or unmount and say why.
        let afterMount = options.mountPointFlags.filter(MountPointFlags.afterMountNames.contains)
        if !afterMount.isEmpty {
            var flags = MountPointFlags(options: MountTable.current().topmost(at: mountpoint)?.options ?? [])
            for option in afterMount { flags.apply(option) }
            do throws(Errno) {
                try flags.set(on: mountpoint)
            } catch {
                printError("cannot set \(afterMount.joined(separator: ",")) on \(mountpoint): \(error); not mounted")
                return ExitStatus.failure  // the session unmounts as it goes
            }
        }
        if !request.foreground {
            if options.logfile == nil { try? DaemonLog.configure(destination: .syslog, debug: request.debug, label: mountpoint) }
            session.detach()
        }
        for warning in warnings { DaemonLog.warning(warning) }
        let settings = passthroughConfiguration
        let access = "\(mountConfiguration.readOnly ? "ro" : "rw"), allow_other=\(mountConfiguration.allowOther ? "yes" : "no")"
        let timeouts = "entry_timeout=\(settings.entryTimeout), attr_timeout=\(settings.attrTimeout), "
            + "negative_timeout=\(settings.negativeTimeout)"
        let description = "\(source) on \(mountpoint) (dtype=\(settings.dtype.rawValue), "
            + "inodes=\(inodeChoice.0.rawValue) (\(inodeChoice.1)), \(access), \(timeouts), max_threads=\(options.maxThreads))"
        DaemonLog.info("mounted \(description)")
        StatisticsReporter.start(fileSystem)
        let result = session.run()
        DaemonLog.info("unmounted \(mountpoint): \(fileSystem.listingStatistics.snapshot.summary)")
        if result < 0 {
            DaemonLog.error("the FUSE session ended with an error: \(Errno(-result))")
            return ExitStatus.failure
        }
        return ExitStatus.success
    }

    /// Dozens of threads (workers, the lstat pool, listing readers) mostly wait in syscalls; glibc
    /// would give each of up to 8 per CPU its own malloc arena, and their fragments add up (see the
    /// 1M-entry walk in docs/PERFORMANCE.md). One per CPU, unless MALLOC_ARENA_MAX says.
    private static func limitMallocArenas() {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = clinux_limit_malloc_arenas(Int32(max(2, min(64, sysconf(Int32(_SC_NPROCESSORS_ONLN))))))
    }

    /// The absolute path of an existing directory, or an error naming `role` and the problem.
    static func resolvedDirectory(_ path: String, role: String) throws(UsageError) -> String {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let cure = errno == ENOTCONN
                ? " (a FUSE mount whose daemon died: umount -l \(path), then mount again; -o auto_unmount avoids this)" : ""
            throw UsageError("\(role) '\(path)': \(String(cString: strerror(errno)))" + cure)
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw UsageError("\(role) '\(path)' is not a directory")
        }
        guard let resolved = realpath(path, nil) else {
            throw UsageError("\(role) '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func printError(_ message: String) {
        let line = "dtypefs: " + message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

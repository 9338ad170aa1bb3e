import Glibc
import FuseKit
import Passthrough
import LinuxKit

/// Logs the listing counters and the inodes the kernel holds whenever SIGUSR1 arrives. A thread
/// waits for the signal with sigwait (logging from a signal handler is unsafe); every other thread
/// has it blocked.
enum StatisticsReporter {
    nonisolated(unsafe) private static var fileSystem: PassthroughFileSystem?

    /// Call before the FUSE worker threads start, so they inherit the blocked signal.
    static func start(_ fileSystem: PassthroughFileSystem) {
        Self.fileSystem = fileSystem
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        var thread = pthread_t()
        _ = pthread_create(&thread, nil, { _ in
            var waited = sigset_t()
            sigemptyset(&waited)
            sigaddset(&waited, SIGUSR1)
            var received: Int32 = 0
            while sigwait(&waited, &received) == 0 {
                if let fileSystem = StatisticsReporter.fileSystem {
                    DaemonLog.info("statistics: \(fileSystem.listingStatistics.snapshot.summary), inodes known to the kernel: \(fileSystem.knownNodeCount)")
                }
            }
            return nil
        }, nil)
        pthread_detach(thread)
    }
}

import Glibc
import CLinux
import FuseKit
import Synchronization
import LinuxKit

/// A syscall that blocks until someone else acts (a lock wait), made to end when the kernel
/// interrupts the request. Rules:
/// - the waiting thread is sent `wakeSignal`, whose handler does nothing and is installed without
///   SA_RESTART, so the call fails with EINTR and the wait ends with EINTR;
/// - the signal is sent again every few milliseconds until the call has returned: one sent just
///   before the thread entered the call would otherwise be lost and the caller would hang;
/// - a signal is only ever sent while the waiter has not finished (checked under its lock), so
///   never to a thread that has gone.
enum InterruptibleWait {
    static let wakeSignal = SIGUSR2

    private static let handlerInstalled = clinux_install_interrupting_handler(wakeSignal) == 0

    /// Runs `call` (a raw syscall: -1 and errno on failure) until it succeeds, fails with an errno
    /// other than EINTR, or `interruption` is requested (EINTR).
    static func run(_ interruption: Interruption, _ call: () -> Int32) throws(Errno) {
        guard handlerInstalled else { throw Errno(ENOLCK) }
        var wakeOnly = sigset_t(), previous = sigset_t()
        sigemptyset(&wakeOnly)
        sigaddset(&wakeOnly, wakeSignal)
        // libfuse's workers block every signal, and threads inherit that.
        pthread_sigmask(SIG_UNBLOCK, &wakeOnly, &previous)
        let waiter = Waiter(thread: pthread_self())
        interruption.onRequest { waiter.wake() }
        defer {
            interruption.onRequest(nil)
            waiter.finish()
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        while true {
            if interruption.isRequested { throw Errno(EINTR) }
            if call() != -1 { return }
            let error = errno
            if error != EINTR { throw Errno(error) }
        }
    }

    private final class Waiter: Sendable {
        let thread: pthread_t
        private let finished = Mutex(false)

        init(thread: pthread_t) { self.thread = thread }

        func wake() {
            DetachedThread.start(stackSize: 64 * 1024) {
                while self.signalUnlessFinished() { usleep(2000) }
            }
        }

        func finish() { finished.withLock { $0 = true } }

        private func signalUnlessFinished() -> Bool {
            finished.withLock { finished in
                if !finished { pthread_kill(thread, InterruptibleWait.wakeSignal) }
                return !finished
            }
        }
    }
}

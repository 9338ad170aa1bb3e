import Glibc

/// A thread that lives as long as the process, for pools that wait in syscalls: a pthread of a
/// chosen stack size, not Dispatch's pool, which on Linux runs about one blocking item per CPU.
/// Started on first use by its owner (after a detaching daemon forked), from a request thread whose
/// signal mask it inherits.
public enum DetachedThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    public static func start(stackSize: Int, _ run: @escaping () -> Void) {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Body(run)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, stackSize)
        _ = pthread_create(&thread, &attributes, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        }, context)
        pthread_attr_destroy(&attributes)
    }
}

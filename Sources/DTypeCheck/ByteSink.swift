import Glibc

/// A buffered byte writer for stdout/stderr, or an in-memory capture for tests.
///
/// Written by hand rather than with `print` so names go out byte-exact and so a big report costs
/// one write per 64 KiB instead of one per line.
final class ByteSink {
    private let fd: Int32?
    private var buffer: [UInt8] = []
    /// Flush after every line: true on a terminal, so a person sees each finding as it is found.
    let flushesLines: Bool
    /// Everything written, for a sink made with `capturing()`.
    private(set) var captured: [UInt8] = []

    /// A sink writing to `fd`, line-buffered when `fd` is a terminal.
    init(fd: Int32) {
        self.fd = fd
        self.flushesLines = isatty(fd) == 1
        buffer.reserveCapacity(64 * 1024)
    }

    private init() {
        self.fd = nil
        self.flushesLines = false
    }

    /// A sink that keeps what is written in `captured`.
    static func capturing() -> ByteSink { ByteSink() }

    var isTerminal: Bool { flushesLines }

    var capturedString: String { String(decoding: captured, as: UTF8.self) }

    func write(_ bytes: [UInt8]) {
        guard fd != nil else {
            captured += bytes
            return
        }
        buffer += bytes
        if buffer.count >= 64 * 1024 || (flushesLines && bytes.last == 0x0A) { flush() }
    }

    func write(_ string: String) { write(Array(string.utf8)) }

    /// Writes everything buffered. A write error (a closed pipe, a full disk) drops the rest:
    /// there is nowhere left to report it, and the exit status already carries the verdict.
    func flush() {
        guard let fd, !buffer.isEmpty else { return }
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    break
                }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

import Glibc

/// A one-line "still working" note on a terminal's stderr during long checks.
///
/// Silent for the first seconds (a quick check should print nothing extra), then redrawn at most a
/// few times a second so that the terminal, not the walk, is never the bottleneck. Disabled when
/// stderr is not a terminal, so logs and pipes get no carriage returns.
final class ProgressLine {
    private let sink: ByteSink
    private let enabled: Bool
    private let start: Double
    private let delay: Double
    private let interval: Double
    private var lastDraw = -Double.infinity
    private var drawn = false

    init(sink: ByteSink, enabled: Bool, delay: Double = 2.0, interval: Double = 0.25) {
        self.sink = sink
        self.enabled = enabled
        self.delay = delay
        self.interval = interval
        self.start = Self.now()
    }

    /// Redraws the line if it is due. Cheap when it is not: one vDSO clock read.
    func update(entries: Int, directory: [UInt8]) {
        guard enabled else { return }
        let now = Self.now()
        guard now - start >= delay, now - lastDraw >= interval else { return }
        lastDraw = now
        var line = Array("\r\u{1B}[Kchecking: \(entries) entries so far, in ".utf8)
        // Keep it to one row: a wrapped line could not be erased with a carriage return.
        let room = max(10, Self.terminalWidth() - line.count + 4 - 1)
        let shown = ByteEscaping.text(directory)
        if shown.count > room {
            line += Array("...".utf8) + shown.suffix(room - 3)
        } else {
            line += shown
        }
        sink.write(line)
        sink.flush()
        drawn = true
    }

    /// Erases the line, before other output and at the end. A no-op if nothing is shown.
    func clear() {
        guard drawn else { return }
        sink.write(Array("\r\u{1B}[K".utf8))
        sink.flush()
        drawn = false
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}

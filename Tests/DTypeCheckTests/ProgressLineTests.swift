import Testing
@testable import DTypeCheck

@Suite struct ProgressLineTests {
    @Test func silentDuringTheDelay() {
        let sink = ByteSink.capturing()
        let progress = ProgressLine(sink: sink, enabled: true, delay: 3600)
        progress.update(entries: 10, directory: Array("dir".utf8))
        progress.clear()
        #expect(sink.captured.isEmpty)
    }

    @Test func drawsThenRateLimitsThenClears() {
        let sink = ByteSink.capturing()
        let progress = ProgressLine(sink: sink, enabled: true, delay: 0, interval: 3600)
        progress.update(entries: 42, directory: [0x64, 0xFF])
        #expect(sink.capturedString.contains("42 entries so far, in d\\xff"))
        let afterFirst = sink.captured.count
        progress.update(entries: 43, directory: Array("dir".utf8))
        #expect(sink.captured.count == afterFirst)  // too soon: not redrawn
        progress.clear()
        #expect(sink.capturedString.hasSuffix("\r\u{1B}[K"))
    }

    @Test func disabledWhenNotATerminal() {
        let sink = ByteSink.capturing()
        let progress = ProgressLine(sink: sink, enabled: false, delay: 0)
        progress.update(entries: 1, directory: [0x61])
        #expect(sink.captured.isEmpty)
    }
}

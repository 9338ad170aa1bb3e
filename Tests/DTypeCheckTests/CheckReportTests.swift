import Testing
@testable import DTypeCheck

@Suite struct CheckReportTests {
    @Test func countsLiesUnknownsAndHonestEntries() {
        var report = CheckReport()
        #expect(report.record(reported: .regular, actual: .regular) == false)
        #expect(report.record(reported: .unknown, actual: .symlink) == false)
        #expect(report.record(reported: .regular, actual: .symlink) == true)
        #expect(report.record(reported: .regular, actual: .symlink) == true)
        #expect(report.record(reported: .directory, actual: .symlink) == true)
        report.recordVanished()
        #expect(report.entries == 6)
        #expect(report.lying == 3)
        #expect(report.unknown == 1)
        #expect(report.vanished == 1)
        let sorted = report.sortedTransitions
        #expect(sorted.map(\.count) == [2, 1])
        #expect(sorted.first?.transition == CheckReport.Transition(reported: .regular, actual: .symlink))
    }

    @Test func exitStatusIsTwoOnErrorsThenOneOnLies() {
        var report = CheckReport()
        #expect(report.exitStatus == 0)
        report.record(reported: .unknown, actual: .regular)
        #expect(report.exitStatus == 0)
        report.record(reported: .regular, actual: .symlink)
        #expect(report.exitStatus == 1)
        report.recordError()
        #expect(report.exitStatus == 2)
    }
}

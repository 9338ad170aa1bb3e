import LinuxKit
import Testing
@testable import DTypeCheck

@Suite struct CheckReportTests {
    @Test func countsLiesUnknownsAndHonestEntries() {
        var report = CheckReport()
        #expect(report.record(reported: FileType.regular.rawValue, actual: .regular) == false)
        #expect(report.record(reported: FileType.unknown.rawValue, actual: .symbolicLink) == false)
        #expect(report.record(reported: FileType.regular.rawValue, actual: .symbolicLink) == true)
        #expect(report.record(reported: FileType.regular.rawValue, actual: .symbolicLink) == true)
        #expect(report.record(reported: FileType.directory.rawValue, actual: .symbolicLink) == true)
        report.recordVanished()
        #expect(report.entries == 6)
        #expect(report.lying == 3)
        #expect(report.unknown == 1)
        #expect(report.vanished == 1)
        let sorted = report.sortedTransitions
        #expect(sorted.map(\.count) == [2, 1])
        #expect(sorted.first?.transition == CheckReport.Transition(reported: FileType.regular.rawValue, actual: .symbolicLink))
    }

    @Test func exitStatusIsTwoOnErrorsThenOneOnLies() {
        var report = CheckReport()
        #expect(report.exitStatus == 0)
        report.record(reported: FileType.unknown.rawValue, actual: .regular)
        #expect(report.exitStatus == 0)
        report.record(reported: FileType.regular.rawValue, actual: .symbolicLink)
        #expect(report.exitStatus == 1)
        report.recordError()
        #expect(report.exitStatus == 2)
    }
}

@Suite struct LieTests {
    @Test func unknownNeverLiesAndOnlyAContradictionDoes() {
        #expect(!Finding.isLie(reported: FileType.unknown.rawValue, actual: .symbolicLink))
        #expect(!Finding.isLie(reported: FileType.symbolicLink.rawValue, actual: .symbolicLink))
        #expect(Finding.isLie(reported: FileType.regular.rawValue, actual: .symbolicLink))
        #expect(Finding.isLie(reported: FileType.directory.rawValue, actual: .regular))
        #expect(Finding.isLie(reported: 3, actual: .regular), "an unknown value is a claim too")
    }
}

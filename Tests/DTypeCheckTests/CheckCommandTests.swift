import LinuxKit
import Foundation
import Testing
@testable import DTypeCheck

/// Runs the whole command on real temp directories. Local filesystems report true d_types, so
/// these trees are honest; a lying tree needs the CIFS emulator (Tests/Integration/test_check.py).
@Suite struct CheckCommandTests {
    /// top/: file, dir/, dir/inner, link-to-dir -> dir, link-to-file -> file, dangling -> nowhere,
    /// fifo, and outside-link -> a directory outside the tree holding 5 files.
    private func honestTree() -> (TemporaryTree, String) {
        let tree = TemporaryTree()
        tree.directory("top")
        tree.file("top/file")
        tree.directory("top/dir")
        tree.file("top/dir/inner")
        tree.symlink("top/link-to-dir", to: "dir")
        tree.symlink("top/link-to-file", to: "file")
        tree.symlink("top/dangling", to: "nowhere")
        tree.fifo("top/fifo")
        tree.directory("outside")
        for index in 0..<5 { tree.file("outside/f\(index)") }
        tree.symlink("top/outside-link", to: "../outside")
        return (tree, tree.string + "/top")
    }

    @Test func honestTreeExitsZeroWithExactCounts() {
        let (tree, top) = honestTree()
        _ = tree
        let run = CheckRun(top)
        #expect(run.status == 0)
        #expect(run.errors.isEmpty)
        #expect(run.output.contains("checked 7 entries in 1 directory"))
        #expect(run.output.contains("no entry lies"))
    }

    @Test func recursiveWalkDescendsDirectoriesButNeverSymlinks() {
        let (tree, top) = honestTree()
        _ = tree
        let run = CheckRun("-r", top)
        #expect(run.status == 0)
        // 7 in top + 1 in dir; following link-to-dir or outside-link would add more.
        #expect(run.output.contains("checked 8 entries in 2 directories"), "\(run.output)")
    }

    @Test func symlinkGivenAsPathIsFollowedLikeFindH() {
        let (tree, _) = honestTree()
        let run = CheckRun(tree.string + "/top/outside-link")
        #expect(run.status == 0)
        #expect(run.output.contains("checked 5 entries in 1 directory"), "\(run.output)")
    }

    @Test func missingPathAndFileAreErrorsButOtherPathsAreStillChecked() {
        let (tree, top) = honestTree()
        let missing = tree.string + "/no-such-dir"
        let run = CheckRun(missing, top + "/file", top)
        #expect(run.status == 2)
        #expect(run.errors.contains("\(missing): cannot open as a directory: No such file or directory"))
        #expect(run.errors.contains("\(top)/file: cannot open as a directory: Not a directory"))
        #expect(run.output.contains("checked 7 entries in 1 directory"))
        #expect(run.output.contains("2 errors"))
    }

    @Test func whenNothingCouldBeCheckedTheSummarySaysSo() {
        let (tree, _) = honestTree()
        let run = CheckRun(tree.string + "/no-such-dir")
        #expect(run.status == 2)
        #expect(run.output.contains("nothing was checked"), "\(run.output)")
        #expect(!run.output.contains("no entry lies"), "\(run.output)")
    }

    @Test func usageErrorsExitTwoWithAMessageAndHelpExitsZero() {
        let bad = CheckRun("--bogus", "/tmp")
        #expect(bad.status == 2)
        #expect(bad.errors.contains("unknown option '--bogus'"))
        #expect(bad.output.isEmpty)
        let none = CheckRun()
        #expect(none.status == 2)
        #expect(none.errors.contains("no PATH"))
        let help = CheckRun("--help")
        #expect(help.status == 0)
        #expect(help.output.hasPrefix("usage: dtypefs check"))
    }

    @Test func jsonIsOneObjectWithEntriesErrorsAndSummary() throws {
        let (tree, top) = honestTree()
        let missing = tree.string + "/gone"
        let run = CheckRun("--json", "-r", top, missing)
        #expect(run.status == 2)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(run.outputBytes)) as? [String: Any]
        )
        #expect(object["paths"] as? [String] == [top, missing])
        #expect(object["recursive"] as? Bool == true)
        #expect((object["entries"] as? [Any])?.isEmpty == true)
        let errors = try #require(object["errors"] as? [[String: Any]])
        #expect(errors.count == 1)
        #expect(errors.first?["path"] as? String == missing)
        #expect(errors.first?["errno"] as? Int == Int(ENOENT))
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["entries"] as? Int == 8)
        #expect(summary["directories"] as? Int == 2)
        #expect(summary["lying"] as? Int == 0)
        #expect(summary["unknown"] as? Int == 0)
        #expect(summary["errors"] as? Int == 1)
        #expect(object["exit_status"] as? Int == 2)
    }

    @Test func invalidUTF8NamesAreWalkedAndShownEscaped() {
        let tree = TemporaryTree()
        let odd: [UInt8] = [0x64, 0xFF, 0x0A]  // "d", invalid byte, newline
        tree.directory(odd)
        tree.file(odd + Array("/inner\u{FE}".utf8))
        tree.file([0x66, 0xFE])
        let run = CheckRun([Array("-r".utf8), tree.path])
        #expect(run.status == 0)
        #expect(run.output.contains("checked 3 entries in 2 directories"), "\(run.output)")
        // A PATH whose bytes are not UTF-8 opens, and an error about it names it escaped.
        let direct = CheckRun([tree.path + [0x2F] + odd])
        #expect(direct.status == 0)
        let missing = CheckRun([tree.path + [0x2F, 0x78, 0xFF]])
        #expect(missing.status == 2)
        #expect(missing.errors.contains(#"/x\xff: cannot open as a directory"#), "\(missing.errors)")
    }

    @Test func findingsAreFormattedWithTargetAndItsType() {
        let finding = Finding(
            path: Array("share/results/linked".utf8), reported: FileType.regular.rawValue, actual: .symbolicLink,
            link: .init(target: .success(Array("../source".utf8)), kind: .success(.directory))
        )
        #expect(String(decoding: TextReport.line(for: finding), as: UTF8.self)
            == "share/results/linked: d_type DT_REG, lstat symlink -> ../source (directory)\n")
        let dangling = Finding(
            path: [0x61, 0xFF], reported: FileType.regular.rawValue, actual: .symbolicLink,
            link: .init(target: .success(Array("nowhere".utf8)), kind: .failure(Errno(ENOENT)))
        )
        #expect(String(decoding: TextReport.line(for: dangling), as: UTF8.self)
            == #"a\xff: d_type DT_REG, lstat symlink -> nowhere (dangling)"# + "\n")
    }

    @Test func jsonFindingObjectParses() throws {
        let finding = Finding(
            path: Array("r/\"q\"".utf8), reported: FileType.regular.rawValue, actual: .symbolicLink,
            link: .init(target: .success(Array("../t".utf8)), kind: .failure(Errno(ENOENT)))
        )
        let parsed = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONReport.object(for: finding))) as? [String: Any]
        )
        #expect(parsed["path"] as? String == "r/\"q\"")
        #expect(parsed["d_type"] as? String == "DT_REG")
        #expect(parsed["reported"] as? String == "file")
        #expect(parsed["actual"] as? String == "symlink")
        #expect(parsed["target"] as? String == "../t")
        #expect(parsed["target_type"] is NSNull)
        #expect(parsed["target_type_error"] as? String == "No such file or directory")
    }

    @Test func summaryListsEachKindOfLie() {
        var report = CheckReport()
        report.recordDirectory()
        report.record(reported: FileType.regular.rawValue, actual: .symbolicLink)
        report.record(reported: FileType.regular.rawValue, actual: .symbolicLink)
        report.record(reported: FileType.unknown.rawValue, actual: .regular)
        let text = String(decoding: TextReport.summary(report), as: UTF8.self)
        #expect(text.contains("checked 3 entries in 1 directory"))
        #expect(text.contains("2 entries lie about their type"))
        #expect(text.contains("    2  DT_REG, really symlink\n"))
        #expect(text.contains("1 entry with d_type DT_UNKNOWN"))
    }
}

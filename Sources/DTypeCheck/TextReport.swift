import Glibc
import LinuxKit

/// Lines for a person: one per lying entry as it is found, then a summary.
final class TextReport: ReportFormat {
    private let sink: ByteSink

    init(sink: ByteSink) { self.sink = sink }

    func begin(paths: [[UInt8]], recursive: Bool) {}

    func record(_ finding: Finding) {
        sink.write(Self.line(for: finding))
    }

    /// Errors go to stderr only (the caller writes them); the summary counts them.
    func recordError(path: [UInt8], _ error: Errno, context: String) {}

    func end(_ report: CheckReport) {
        sink.write(Self.summary(report))
        sink.flush()
    }

    /// `path: d_type DT_REG, lstat symlink -> target (directory)`
    static func line(for finding: Finding) -> [UInt8] {
        var line = ByteEscaping.text(finding.path)
        line += Array(": d_type \(finding.reportedName), lstat \(finding.actual.description)".utf8)
        if let link = finding.link {
            line += Array(" -> ".utf8)
            switch link.target {
            case .success(let target): line += ByteEscaping.text(target)
            case .failure(let error): line += Array("(unreadable: \(error))".utf8)
            }
            switch link.kind {
            case .success(let kind): line += Array(" (\(kind.description))".utf8)
            case .failure(let error) where error == .noEntry: line += Array(" (dangling)".utf8)
            case .failure(let error): line += Array(" (\(error))".utf8)
            }
        }
        line.append(0x0A)
        return line
    }

    static func summary(_ report: CheckReport) -> [UInt8] {
        var text = "checked \(report.entries) \(plural(report.entries, "entry", "entries")) in "
            + "\(report.directories) \(plural(report.directories, "directory", "directories"))\n"
        if report.directories == 0 {
            // Every PATH failed: "no entry lies" would read as a clean bill of health.
            text += "  nothing was checked\n"
        } else if report.lying == 0 {
            text += "  no entry lies about its type\n"
        } else {
            text += "  \(report.lying) \(plural(report.lying, "entry lies about its type", "entries lie about their type")) "
                + "(d_type from getdents differs from lstat):\n"
            for (transition, count) in report.sortedTransitions {
                text += "    \(count)  \(transition.reportedName), really \(transition.actual.description)\n"
            }
        }
        text += "  \(report.unknown) \(plural(report.unknown, "entry", "entries")) with d_type DT_UNKNOWN "
            + "(honest: readers must lstat them)\n"
        if report.vanished > 0 {
            text += "  \(report.vanished) vanished between listing and lstat\n"
        }
        if report.errors > 0 {
            text += "  \(report.errors) \(plural(report.errors, "error", "errors")): the check is incomplete "
                + "(messages on stderr)\n"
        }
        return Array(text.utf8)
    }

    private static func plural(_ count: Int, _ one: String, _ many: String) -> String {
        count == 1 ? one : many
    }
}

import LinuxKit
/// One JSON object for programs: `paths`, `recursive`, `entries` (the lying ones), `errors`,
/// `summary`, `exit_status`. Entries are streamed as found, one per line; errors are few and kept
/// until the end. Names are escaped as `ByteEscaping` describes.
final class JSONReport: ReportFormat {
    private let sink: ByteSink
    private var entryCount = 0
    private var errors: [[UInt8]] = []

    init(sink: ByteSink) { self.sink = sink }

    func begin(paths: [[UInt8]], recursive: Bool) {
        var out = Array("{\"paths\": [".utf8)
        for (index, path) in paths.enumerated() {
            if index > 0 { out += Array(", ".utf8) }
            ByteEscaping.appendJSONString(path, to: &out)
        }
        out += Array("], \"recursive\": \(recursive), \"entries\": [".utf8)
        sink.write(out)
    }

    func record(_ finding: Finding) {
        var out = Array((entryCount == 0 ? "\n  " : ",\n  ").utf8)
        entryCount += 1
        out += Self.object(for: finding)
        sink.write(out)
    }

    func recordError(path: [UInt8], _ error: Errno, context: String) {
        var out = Array("{\"path\": ".utf8)
        ByteEscaping.appendJSONString(path, to: &out)
        out += Array(", \"operation\": ".utf8)
        ByteEscaping.appendJSONString(context, to: &out)
        out += Array(", \"errno\": \(error.rawValue), \"error\": ".utf8)
        ByteEscaping.appendJSONString(error.description, to: &out)
        out.append(UInt8(ascii: "}"))
        errors.append(out)
    }

    func end(_ report: CheckReport) {
        var out = Array((entryCount == 0 ? "],\n \"errors\": [" : "\n ],\n \"errors\": [").utf8)
        for (index, error) in errors.enumerated() {
            out += Array((index == 0 ? "\n  " : ",\n  ").utf8) + error
        }
        out += Array((errors.isEmpty ? "],\n" : "\n ],\n").utf8)
        out += Array(" \"summary\": ".utf8) + Self.summary(report)
        out += Array(",\n \"exit_status\": \(report.exitStatus)}\n".utf8)
        sink.write(out)
        sink.flush()
    }

    static func object(for finding: Finding) -> [UInt8] {
        var out = Array("{\"path\": ".utf8)
        ByteEscaping.appendJSONString(finding.path, to: &out)
        out += Array(", \"d_type\": \"\(finding.reportedName)\", \"reported\": \"\(finding.reportedWord)\", \"actual\": \"\(finding.actual.description)\"".utf8)
        if let link = finding.link {
            out += Array(", \"target\": ".utf8)
            switch link.target {
            case .success(let target): ByteEscaping.appendJSONString(target, to: &out)
            case .failure(let error):
                out += Array("null, \"target_error\": ".utf8)
                ByteEscaping.appendJSONString(error.description, to: &out)
            }
            out += Array(", \"target_type\": ".utf8)
            switch link.kind {
            case .success(let kind): out += Array("\"\(kind.description)\"".utf8)
            case .failure(let error):
                // A dangling link: the target does not resolve; say why rather than guess a type.
                out += Array("null, \"target_type_error\": ".utf8)
                ByteEscaping.appendJSONString(error.description, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func summary(_ report: CheckReport) -> [UInt8] {
        var out = Array("{\"directories\": \(report.directories), \"entries\": \(report.entries), \"lying\": \(report.lying), \"unknown\": \(report.unknown), \"vanished\": \(report.vanished), \"errors\": \(report.errors), \"lies_by_type\": [".utf8)
        for (index, item) in report.sortedTransitions.enumerated() {
            if index > 0 { out += Array(", ".utf8) }
            out += Array("{\"d_type\": \"\(item.transition.reportedName)\", \"actual\": \"\(item.transition.actual.description)\", \"count\": \(item.count)}".utf8)
        }
        out += Array("]}".utf8)
        return out
    }
}

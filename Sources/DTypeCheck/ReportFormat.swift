import LinuxKit
/// How a check's results are written: as lines for a person or as one JSON document.
///
/// Findings arrive while the walk is running, so a format can stream them instead of holding a
/// large tree's results in memory.
protocol ReportFormat: AnyObject {
    func begin(paths: [[UInt8]], recursive: Bool)
    func record(_ finding: Finding)
    /// Something could not be checked; `path` is what the error is about.
    func recordError(path: [UInt8], _ error: Errno, context: String)
    func end(_ report: CheckReport)
}

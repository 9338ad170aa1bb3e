import LinuxKit
/// The running totals of a check, from which the summary and the exit status are derived.
struct CheckReport: Equatable, Sendable {
    /// A kind of lie: what getdents claimed and what lstat found.
    struct Transition: Hashable, Sendable {
        let reported: UInt8
        let actual: FileType
    }

    private(set) var directories = 0
    private(set) var entries = 0
    private(set) var lying = 0
    /// Entries reported as DT_UNKNOWN: not lies, but every reader must lstat them.
    private(set) var unknown = 0
    /// Entries listed by getdents that were gone by the time of lstat (a live tree changes).
    private(set) var vanished = 0
    private(set) var errors = 0
    private(set) var transitions: [Transition: Int] = [:]

    init() {}

    /// Counts one entry; returns whether its d_type lies.
    @discardableResult
    mutating func record(reported: UInt8, actual: FileType) -> Bool {
        entries += 1
        if reported == FileType.unknown.rawValue {
            unknown += 1
            return false
        }
        guard Finding.isLie(reported: reported, actual: actual) else { return false }
        lying += 1
        transitions[Transition(reported: reported, actual: actual), default: 0] += 1
        return true
    }

    mutating func recordVanished() {
        entries += 1
        vanished += 1
    }

    mutating func recordError() { errors += 1 }

    mutating func recordDirectory() { directories += 1 }

    /// Lie kinds, most frequent first, ties in a stable order so output is reproducible.
    var sortedTransitions: [(transition: Transition, count: Int)] {
        transitions.map { (transition: $0.key, count: $0.value) }.sorted {
            if $0.count != $1.count { return $0.count > $1.count }
            if $0.transition.reportedName != $1.transition.reportedName {
                return $0.transition.reportedName < $1.transition.reportedName
            }
            return $0.transition.actual.description < $1.transition.actual.description
        }
    }

    /// 2 if anything could not be checked (the answer is incomplete, as grep does), else 1 if some
    /// entry lies, else 0.
    var exitStatus: Int32 {
        if errors > 0 { return 2 }
        return lying > 0 ? 1 : 0
    }
}

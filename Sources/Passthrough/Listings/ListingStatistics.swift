import FuseKit
import Synchronization
import LinuxKit

/// What readdir did: entries listed, entries whose reported type we corrected (by their true type),
/// listings read ahead of a walk and how many of those a request used. Logged at unmount and on SIGUSR1.
public final class ListingStatistics: Sendable {
    public struct Snapshot: Sendable {
        public var listed: Int
        public var corrected: [FileType: Int]
        public var unverifiable: Int
        public var readAhead = 0
        public var readAheadUsed = 0
        /// Of those used, how many a request waited for while they were being read, and how long in all.
        public var readAheadWaitedFor = 0
        public var readAheadWaitNanoseconds: Int64 = 0
        public var linkTargetsReadAhead = 0
        public var linkTargetsUsed = 0
        /// Where those targets lead, looked up ahead of the walker (see `lookUpLinkTargets`).
        public var linkTargetPathsResolved = 0
        /// getxattr answers read with listings read ahead for entries a walker listed, and used.
        public var extendedAttributesReadAhead = 0
        public var extendedAttributesUsed = 0

        public var correctedTotal: Int { corrected.values.reduce(0, +) }

        public var summary: String {
            let byType = corrected.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            return "entries listed: \(listed), types corrected: \(correctedTotal)"
                + (byType.isEmpty ? "" : " (\(byType))")
                + ", unverifiable (listed as unknown): \(unverifiable)"
                + ", listings read ahead: \(readAhead) (\(readAheadUsed) used, \(readAheadWaitedFor) waited for"
                + " \(readAheadWaitNanoseconds / 1_000_000) ms in all)"
                + ", link targets read ahead: \(linkTargetsReadAhead) (\(linkTargetsUsed) used)"
                + ", link target paths resolved ahead: \(linkTargetPathsResolved)"
                + ", xattr answers read ahead: \(extendedAttributesReadAhead) (\(extendedAttributesUsed) used)"
        }
    }

    private let state = Mutex(Snapshot(listed: 0, corrected: [:], unverifiable: 0))

    public init() {}

    /// Adds one readdir batch's counts (one lock per batch, not per entry).
    func record(listed: Int, corrected: [FileType: Int], unverifiable: Int) {
        guard listed > 0 || unverifiable > 0 || !corrected.isEmpty else { return }
        state.withLock { snapshot in
            snapshot.listed += listed
            snapshot.unverifiable += unverifiable
            for (type, count) in corrected { snapshot.corrected[type, default: 0] += count }
        }
    }

    func recordReadAhead() {
        state.withLock { snapshot in snapshot.readAhead += 1 }
    }

    /// A request used a listing read ahead, after waiting `waited` ns for it to be read (0: ready).
    func recordReadAheadUsed(waited: Int64) {
        state.withLock { snapshot in
            snapshot.readAheadUsed += 1
            if waited > 0 {
                snapshot.readAheadWaitedFor += 1
                snapshot.readAheadWaitNanoseconds += waited
            }
        }
    }

    func recordLinkTarget(used: Bool) {
        state.withLock { snapshot in
            if used { snapshot.linkTargetsUsed += 1 } else { snapshot.linkTargetsReadAhead += 1 }
        }
    }

    func recordExtendedAttributeUsed() {
        state.withLock { snapshot in snapshot.extendedAttributesUsed += 1 }
    }

    func recordExtendedAttributes(read: Int) {
        guard read > 0 else { return }
        state.withLock { snapshot in snapshot.extendedAttributesReadAhead += read }
    }

    func recordLinkTargetPaths(resolved: Int) {
        guard resolved > 0 else { return }
        state.withLock { snapshot in snapshot.linkTargetPathsResolved += resolved }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }
}

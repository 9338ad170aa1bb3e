/// Which d_type readdir reports for an entry.
public enum DTypePolicy: String, Sendable, CaseIterable {
    /// The type of an lstat of the backing entry; DT_UNKNOWN when that lstat fails.
    case verify
    /// Always DT_UNKNOWN: every program falls back to lstat itself. No readdirplus.
    case unknown
    /// The backing filesystem's d_type unchanged, lies included (for comparison).
    case passthrough
}

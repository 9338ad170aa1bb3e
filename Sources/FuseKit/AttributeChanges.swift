import Glibc

/// What a setattr request asks to change; nil means "leave as is".
public struct AttributeChanges: Sendable {
    public enum TimeChange: Sendable, Equatable {
        case now
        case set(seconds: Int, nanoseconds: Int)
    }

    public var mode: mode_t?
    public var uid: uid_t?
    public var gid: gid_t?
    public var size: Int64?
    public var accessTime: TimeChange?
    public var modificationTime: TimeChange?

    public init(mode: mode_t? = nil, uid: uid_t? = nil, gid: gid_t? = nil, size: Int64? = nil,
                accessTime: TimeChange? = nil, modificationTime: TimeChange? = nil) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
    }
}

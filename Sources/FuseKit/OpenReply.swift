/// The answer to open, create and opendir: our handle and how the kernel should cache the file.
public struct OpenReply: Sendable {
    public var handle: UInt64
    public var directIO: Bool
    public var keepCache: Bool

    public init(handle: UInt64, directIO: Bool = false, keepCache: Bool = false) {
        self.handle = handle
        self.directIO = directIO
        self.keepCache = keepCache
    }
}

/// The answer to read: bytes we hold, or a range of an open file the bridge can splice.
public enum ReadReply: Sendable {
    case bytes([UInt8])
    case fileRange(descriptor: Int32, offset: Int64, length: Int)
}

/// The answer to getxattr and listxattr: with size 0 the kernel asks only how big the value is.
public enum ExtendedAttributeReply: Sendable {
    case size(Int)
    case bytes([UInt8])
}

/// A POSIX record lock as the kernel describes it (struct flock without the C layout).
public struct RecordLock: Sendable, Equatable {
    public var type: Int16
    public var start: Int64
    public var length: Int64
    public var pid: Int32

    public init(type: Int16, start: Int64, length: Int64, pid: Int32) {
        self.type = type
        self.start = start
        self.length = length
        self.pid = pid
    }
}

/// Filesystem statistics (statvfs) passed back unchanged.
public struct FileSystemStatistics: Sendable {
    public var blockSize: UInt64
    public var fragmentSize: UInt64
    public var blocks: UInt64
    public var blocksFree: UInt64
    public var blocksAvailable: UInt64
    public var files: UInt64
    public var filesFree: UInt64
    public var filesAvailable: UInt64
    public var maximumNameLength: UInt64

    public init(blockSize: UInt64, fragmentSize: UInt64, blocks: UInt64, blocksFree: UInt64,
                blocksAvailable: UInt64, files: UInt64, filesFree: UInt64, filesAvailable: UInt64,
                maximumNameLength: UInt64) {
        self.blockSize = blockSize
        self.fragmentSize = fragmentSize
        self.blocks = blocks
        self.blocksFree = blocksFree
        self.blocksAvailable = blocksAvailable
        self.files = files
        self.filesFree = filesFree
        self.filesAvailable = filesAvailable
        self.maximumNameLength = maximumNameLength
    }
}

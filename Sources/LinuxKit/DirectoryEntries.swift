import CLinux

/// The records of one getdents64 batch, parsed once for the filesystem's listings and for
/// `check`. Names point into the caller's buffer: valid while it holds the batch.
public struct DirectoryEntries: Sequence {
    public struct Entry {
        public var inode: UInt64
        /// The backing filesystem's cookie for the entry after this one.
        public var nextOffset: Int64
        /// The d_type byte exactly as the kernel gave it.
        public var type: UInt8
        /// NUL-terminated.
        public var name: UnsafePointer<CChar>

        /// "." or "..": a directory by definition, never verified or reported.
        public var isDotOrDotDot: Bool { DirectoryEntries.isDotOrDotDot(name) }
    }

    private let batch: UnsafeRawBufferPointer

    /// `batch`: the bytes a getdents64 call filled.
    public init(_ batch: UnsafeRawBufferPointer) {
        self.batch = batch
    }

    public static func isDotOrDotDot(_ name: UnsafePointer<CChar>) -> Bool {
        name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
    }

    public struct Iterator: IteratorProtocol {
        let batch: UnsafeRawBufferPointer
        var cursor = 0

        /// After `next` returned nil: whether it stopped at the end of the batch, not at a malformed record.
        public var reachedEnd: Bool { cursor >= batch.count }

        /// Stops at the end of the batch, or at a malformed record (see `clinux_dirent_at`).
        public mutating func next() -> Entry? {
            guard let base = batch.baseAddress else { return nil }
            var dirent = clinux_dirent()
            let following = clinux_dirent_at(base, batch.count, cursor, &dirent)
            guard following > cursor else { return nil }
            cursor = following
            return Entry(inode: dirent.ino, nextOffset: dirent.off, type: dirent.type, name: dirent.name)
        }
    }

    public func makeIterator() -> Iterator { Iterator(batch: batch) }
}

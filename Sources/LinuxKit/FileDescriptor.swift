/// An open descriptor that closes itself: whoever holds it owns it, exactly once (it cannot be
/// copied), so it is never closed twice nor forgotten. Used where a descriptor lives beyond one
/// call (listings, the backing root, what a source hands the listing pipeline); descriptors
/// borrowed for the length of a call stay plain `Int32` parameters, and an open file's descriptor
/// is its FUSE handle, owned by the kernel's open file until RELEASE.
public struct FileDescriptor: ~Copyable, Sendable {
    public let rawValue: Int32

    /// Takes ownership of `rawValue`, an open descriptor.
    public init(owning rawValue: Int32) {
        self.rawValue = rawValue
    }

    deinit {
        SystemCall.close(rawValue)
    }

    /// Gives the descriptor up without closing it (to a new owner that is not a `FileDescriptor`).
    public consuming func release() -> Int32 {
        let rawValue = self.rawValue
        discard self
        return rawValue
    }
}

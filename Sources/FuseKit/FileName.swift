/// One path component as raw bytes: names are not required to be UTF-8 and must pass through
/// byte-exact.
public struct FileName: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    @inlinable public init(bytes: [UInt8]) { self.bytes = bytes }

    public init(cString: UnsafePointer<CChar>) {
        let length = strlenOf(cString)
        bytes = [UInt8](UnsafeRawBufferPointer(start: cString, count: length))
    }

    public init(_ string: String) { bytes = Array(string.utf8) }

    /// A name the backing filesystem could mistake for something else: empty, ".", "..", or with a
    /// slash or NUL. The kernel never sends these for a lookup; a safe daemon checks anyway.
    public var isSingleComponent: Bool {
        if bytes.isEmpty || bytes == [0x2E] || bytes == [0x2E, 0x2E] { return false }
        return !bytes.contains(0x2F) && !bytes.contains(0)
    }

    public var isDotOrDotDot: Bool { bytes == [0x2E] || bytes == [0x2E, 0x2E] }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// Calls `body` with the name as a NUL-terminated C string.
    @inlinable public func withCString<R, E: Error>(_ body: (UnsafePointer<CChar>) throws(E) -> R) throws(E) -> R {
        var terminated = bytes
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { (buffer) throws(E) -> R in
            try buffer.withMemoryRebound(to: CChar.self) { (chars) throws(E) -> R in try body(chars.baseAddress!) }
        }
    }
}

@usableFromInline func strlenOf(_ string: UnsafePointer<CChar>) -> Int {
    var length = 0
    while string[length] != 0 { length += 1 }
    return length
}

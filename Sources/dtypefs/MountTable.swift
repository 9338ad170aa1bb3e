import Glibc

/// The mounts this process sees (/proc/self/mountinfo), read without touching any mounted
/// filesystem: a stat of a mount point would wait on its daemon, which may be us, not yet serving.
struct MountTable {
    struct Entry: Equatable {
        var mountPoint: String
        /// Per-mount options (rw, nosuid, relatime, ...).
        var options: [String]
        var fileSystemType: String
        var source: String
        /// The filesystem's own options (for CIFS: serverino or noserverino, ...).
        var superOptions: [String]
    }

    var entries: [Entry]

    static func current() -> MountTable {
        guard let file = fopen("/proc/self/mountinfo", "r") else { return MountTable(entries: []) }
        defer { fclose(file) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            text += buffer[..<count]
        }
        return parse(String(decoding: text, as: UTF8.self))
    }

    static func parse(_ text: String) -> MountTable {
        var entries: [Entry] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard let separator = fields.firstIndex(of: "-"), separator >= 6, fields.count >= separator + 4 else { continue }
            entries.append(Entry(mountPoint: unescape(fields[4]), options: fields[5].split(separator: ",").map(String.init),
                                 fileSystemType: fields[separator + 1], source: unescape(fields[separator + 2]),
                                 superOptions: fields[separator + 3].split(separator: ",").map(String.init)))
        }
        return MountTable(entries: entries)
    }

    /// The topmost mount at exactly `path` (absolute, resolved), if `path` is a mount point.
    func topmost(at path: String) -> Entry? {
        entries.last { $0.mountPoint == path }
    }

    /// The kernel writes space, tab, newline and backslash in paths as \ooo.
    static func unescape(_ field: String) -> String {
        var bytes: [UInt8] = []
        let source = Array(field.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 3 < source.count,
               let value = UInt8(String(decoding: source[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

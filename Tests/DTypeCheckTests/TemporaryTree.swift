import Glibc
import LinuxKit
@testable import DTypeCheck

/// A private temp directory for one test, built from raw-byte names (so invalid UTF-8 works) and
/// removed with everything in it when the test is done, pass or fail.
final class TemporaryTree {
    let path: [UInt8]

    init() {
        var template = Array("/tmp/dtypecheck-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp: \(Errno(errno))") }
        path = Array(String(cString: made).utf8)
    }

    deinit { Self.remove(path) }

    var string: String { String(decoding: path, as: UTF8.self) }

    func at(_ relative: [UInt8]) -> [UInt8] { path + [UInt8(ascii: "/")] + relative }
    func at(_ relative: String) -> [UInt8] { at(Array(relative.utf8)) }

    func file(_ relative: [UInt8], contents: String = "x") {
        Self.withC(at(relative)) { name in
            let fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            precondition(fd >= 0, "create \(String(decoding: relative, as: UTF8.self)): \(Errno(errno))")
            _ = Array(contents.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
    }
    func file(_ relative: String, contents: String = "x") { file(Array(relative.utf8), contents: contents) }

    func directory(_ relative: [UInt8]) {
        Self.withC(at(relative)) { precondition(mkdir($0, 0o755) == 0, "mkdir: \(Errno(errno))") }
    }
    func directory(_ relative: String) { directory(Array(relative.utf8)) }

    func symlink(_ relative: String, to target: String) {
        Self.withC(at(Array(relative.utf8))) { name in
            precondition(Glibc.symlink(target, name) == 0, "symlink: \(Errno(errno))")
        }
    }

    func fifo(_ relative: String) {
        Self.withC(at(Array(relative.utf8))) { precondition(mkfifo($0, 0o644) == 0, "mkfifo: \(Errno(errno))") }
    }

    static func withC<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (bytes.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Removes a tree without following symlinks (rm -r semantics), tolerating anything missing.
    static func remove(_ path: [UInt8]) {
        var status = stat()
        guard withC(path, { lstat($0, &status) }) == 0 else { return }
        if status.st_mode & S_IFMT == S_IFDIR {
            if let directory = withC(path, { opendir($0) }) {
                var names: [[UInt8]] = []
                while let entry = readdir(directory) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        Array(raw.prefix(while: { $0 != 0 }))
                    }
                    if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
                }
                closedir(directory)
                for name in names { remove(path + [UInt8(ascii: "/")] + name) }
            }
            _ = withC(path) { rmdir($0) }
        } else {
            _ = withC(path) { unlink($0) }
        }
    }
}

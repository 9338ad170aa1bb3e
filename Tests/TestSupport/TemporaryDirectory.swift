import Glibc
import Testing

/// A fresh directory under /tmp, removed with everything in it when the test ends.
public final class TemporaryDirectory {
    public let path: String

    public init() {
        var template = Array("/tmp/dtypefs-unit-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")
        path = String(cString: created!)
    }

    deinit { _ = system("rm -rf '\(path)'") }

    public func url(_ relative: String) -> String { path + "/" + relative }

    public func makeDirectory(_ relative: String) { #expect(mkdir(url(relative), 0o755) == 0) }

    public func makeFile(_ relative: String, contents: String = "") {
        let descriptor = open(url(relative), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(descriptor >= 0)
        _ = contents.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
    }

    public func makeSymlink(_ relative: String, to target: String) { #expect(symlink(target, url(relative)) == 0) }

    public func lstatMode(_ relative: String) -> mode_t? {
        var status = stat()
        return lstat(url(relative), &status) == 0 ? status.st_mode : nil
    }

    public func contents(_ relative: String) -> String? {
        let descriptor = open(url(relative), O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(descriptor, &buffer, buffer.count)
        return String(decoding: buffer[0..<max(0, count)], as: UTF8.self)
    }
}

import Glibc
import LinuxKit
import Testing
@testable import DTypeCheck

@Suite struct DirectoryReaderTests {
    @Test func readsEveryEntryAcrossManyGetdentsBatchesWithoutDots() throws {
        let tree = TemporaryTree()
        for index in 0..<500 { tree.file("file-\(index)") }
        tree.directory("sub")
        tree.symlink("link", to: "sub")
        // A 1 KiB buffer forces dozens of getdents64 calls, exercising the batch boundaries.
        let reader = try DirectoryReader.open(path: tree.path, bufferSize: 1024)
        var seen: [String: FileType] = [:]
        while let record = try reader.next() {
            let name = String(decoding: record.nameBytes, as: UTF8.self)
            #expect(seen[name] == nil, "\(name) listed twice")
            seen[name] = FileType(directoryEntryType: record.type)
        }
        #expect(seen.count == 502)
        #expect(seen["."] == nil && seen[".."] == nil)
        // A local filesystem either tells the truth or says DT_UNKNOWN.
        #expect([FileType.regular, .unknown].contains(seen["file-0"]))
        #expect([FileType.directory, .unknown].contains(seen["sub"]))
        #expect([FileType.symbolicLink, .unknown].contains(seen["link"]))
    }

    @Test func nameBytesAreExact() throws {
        let tree = TemporaryTree()
        let name: [UInt8] = [0x80, 0xFF, 0x20, 0x5C]
        tree.file(name)
        let reader = try DirectoryReader.open(path: tree.path)
        let record = try #require(try reader.next())
        #expect(record.nameBytes == name)
        #expect(try reader.next() == nil)
    }

    @Test func openingAFileOrMissingPathFailsWithItsErrno() {
        let tree = TemporaryTree()
        tree.file("plain")
        #expect(throws: Errno(ENOTDIR)) { try DirectoryReader.open(path: tree.at("plain")) }
        #expect(throws: Errno(ENOENT)) { try DirectoryReader.open(path: tree.at("absent")) }
    }

    @Test func subdirectoryOpenRefusesSymlinks() throws {
        let tree = TemporaryTree()
        tree.directory("real")
        tree.symlink("alias", to: "real")
        let reader = try DirectoryReader.open(path: tree.path)
        // The kernel answers ENOTDIR (O_DIRECTORY is checked first) or ELOOP: either way, refused.
        do throws(Errno) {
            _ = try reader.openSubdirectory(Array("alias".utf8))
            Issue.record("a symlink to a directory was opened as a subdirectory")
        } catch {
            #expect([ENOTDIR, ELOOP].contains(error.rawValue))
        }
    }
}

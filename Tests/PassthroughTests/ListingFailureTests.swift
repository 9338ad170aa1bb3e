import FuseKit
import Glibc
import LinuxKit
@testable import Passthrough
import Testing
import TestSupport

/// The failure branches of a listing, reached through `SystemFault` (per thread, no mount).
@Suite struct ListingFailureTests {
    func fileSystem(_ directory: TemporaryDirectory) throws -> PassthroughFileSystem {
        var configuration = PassthroughConfiguration()
        configuration.readaheadListings = 0  // every call on this thread, where the fault is
        configuration.verifyThreads = 1
        return try PassthroughFileSystem(source: directory.path, configuration: configuration)
    }

    func tree() -> TemporaryDirectory {
        let directory = TemporaryDirectory()
        directory.makeDirectory("dir")
        directory.makeFile("file")
        directory.makeSymlink("link", to: "dir")
        return directory
    }

    @Test func aDirectoryGoneStaleListsAsEmpty() throws {
        let directory = tree()
        let fs = try fileSystem(directory)
        var sink = RecordingSink()
        // A path-based FUSE backing answers ESTALE for a directory removed while open.
        try SystemFault.injecting(.getdents, Errno(ESTALE)) { () throws(Errno) in
            try fs.readDirectory(node: .root, offset: 0, into: &sink)
        }
        #expect(sink.added.isEmpty)
    }

    @Test func anInputOutputErrorReachesTheCaller() throws {
        let directory = tree()
        let fs = try fileSystem(directory)
        var sink = RecordingSink()
        #expect(throws: Errno.ioError) {
            try SystemFault.injecting(.getdents, Errno.ioError) { () throws(Errno) in
                try fs.readDirectory(node: .root, offset: 0, into: &sink)
            }
        }
    }

    @Test(arguments: [false, true])
    func entriesThatCannotBeVerifiedAreListedAsUnknown(plus: Bool) throws {
        let directory = tree()
        let fs = try fileSystem(directory)
        var sink = RecordingSink(plus: plus)
        try SystemFault.injecting(.lstat, Errno.ioError) { () throws(Errno) in
            try fs.readDirectory(node: .root, offset: 0, into: &sink)
        }
        #expect(sink.names == ["dir", "file", "link"])
        for name in sink.names { #expect(sink.type(of: name) == .unknown, "\(name)") }
        #expect(sink.type(of: ".") == .directory)
        if plus { #expect(sink.added.allSatisfy { $0.node == NodeID.none }, "no node without attributes") }
        #expect(fs.listingStatistics.snapshot.unverifiable == 3)
        // Without the fault the same listing is verified again.
        var again = RecordingSink(plus: plus)
        try fs.readDirectory(node: .root, offset: 0, into: &again)
        #expect(again.type(of: "link") == .symbolicLink)
    }

    @Test func aReadlinkFailureIsReplied() throws {
        let directory = tree()
        let fs = try fileSystem(directory)
        let link = try fs.lookup(parent: .root, name: FileName("link"))
        #expect(throws: Errno.ioError) {
            try SystemFault.injecting(.readlink, Errno.ioError) { () throws(Errno) in _ = try fs.readLink(node: link.node) }
        }
        #expect(try fs.readLink(node: link.node) == Array("dir".utf8))
    }
}

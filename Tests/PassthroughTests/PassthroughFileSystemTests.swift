import CLinux
import FuseKit
import Glibc
import Testing
@testable import Passthrough
import LinuxKit
import TestSupport

/// The filesystem driven directly, as the bridge would, over a temp directory: no mount.
@Suite struct PassthroughFileSystemTests {
    let caller = Caller(uid: 0, gid: 0, pid: getpid(), umask: 0o022)

    func makeFileSystem(_ directory: TemporaryDirectory, dtype: DTypePolicy = .verify, negativeTimeout: Double = 1) throws -> PassthroughFileSystem {
        var configuration = PassthroughConfiguration()
        configuration.dtype = dtype
        configuration.negativeTimeout = negativeTimeout
        return try PassthroughFileSystem(source: directory.path, configuration: configuration)
    }

    func list(_ fs: PassthroughFileSystem, _ node: NodeID, plus: Bool = false) throws -> RecordingSink {
        var sink = RecordingSink(plus: plus)
        try fs.readDirectory(node: node, offset: 0, into: &sink)
        return sink
    }

    func sampleTree() -> TemporaryDirectory {
        let directory = TemporaryDirectory()
        directory.makeDirectory("dir")
        directory.makeFile("file", contents: "hello")
        directory.makeSymlink("link-to-dir", to: "dir")
        directory.makeSymlink("link-to-file", to: "file")
        directory.makeSymlink("dangling", to: "nowhere")
        return directory
    }

    @Test(arguments: [false, true])
    func verifyReportsLstatTypes(plus: Bool) throws {
        let directory = sampleTree()
        let fs = try makeFileSystem(directory)
        let sink = try list(fs, .root, plus: plus)
        #expect(sink.names == ["dangling", "dir", "file", "link-to-dir", "link-to-file"])
        #expect(sink.type(of: "dir") == .directory)
        #expect(sink.type(of: "file") == .regular)
        #expect(sink.type(of: "link-to-dir") == .symbolicLink)
        #expect(sink.type(of: "link-to-file") == .symbolicLink)
        #expect(sink.type(of: "dangling") == .symbolicLink)
        #expect(sink.type(of: ".") == .directory)
        for added in sink.added { #expect(added.inode != 0) }
        if plus {
            // Real entries become nodes (one lookup each); "." and ".." are listed without one.
            #expect(sink.added.first { $0.name == "." }?.node == NodeID.none)
            #expect(sink.added.first { $0.name == "file" }?.node != NodeID.none)
            #expect(fs.knownNodeCount == 1 + 5)
        }
    }

    @Test func pastTheNodeBudgetFilesAreListedWithoutNodes() throws {
        let directory = sampleTree()
        var configuration = PassthroughConfiguration()
        configuration.listedNodeBudget = 1  // the root alone fills it
        let fs = try PassthroughFileSystem(source: directory.path, configuration: configuration)
        let sink = try list(fs, .root, plus: true)
        #expect(sink.type(of: "file") == .regular)
        #expect(sink.type(of: "link-to-dir") == .symbolicLink)
        #expect(sink.added.first { $0.name == "file" }?.node == NodeID.none)
        #expect(sink.added.first { $0.name == "link-to-dir" }?.node == NodeID.none)
        // Directories still become nodes: walkers descend into them next.
        #expect(sink.added.first { $0.name == "dir" }?.node != NodeID.none)
        #expect(fs.knownNodeCount == 2)
    }

    @Test func unknownReportsUnknownForEveryEntry() throws {
        let directory = sampleTree()
        let fs = try makeFileSystem(directory, dtype: .unknown)
        let sink = try list(fs, .root)
        #expect(sink.added.allSatisfy { $0.type == .unknown })
        #expect(sink.names.count == 5)
    }

    @Test func inodeNumbersAreTheBackingOnes() throws {
        let directory = sampleTree()
        let fs = try makeFileSystem(directory)
        var status = stat()
        lstat(directory.url("file"), &status)
        let entry = try fs.lookup(parent: .root, name: FileName("file"))
        #expect(entry.attributes.inode == UInt64(status.st_ino))
        #expect(try list(fs, .root).added.first { $0.name == "file" }?.inode == UInt64(status.st_ino))
    }

    @Test func offsetsResumeWhereAFullBufferStopped() throws {
        let directory = TemporaryDirectory()
        for index in 0..<300 { directory.makeFile("f\(index)") }
        let fs = try makeFileSystem(directory)
        var names: [String] = []
        var offset: Int64 = 0
        var savedOffset: Int64 = 0, savedNext: String = ""
        while true {
            var sink = RecordingSink(capacity: 7)
            try fs.readDirectory(node: .root, offset: offset, into: &sink)
            guard let last = sink.added.last else { break }
            if names.count > 100, savedNext.isEmpty { savedOffset = offset; savedNext = sink.added[0].name }
            names += sink.added.map(\.name)
            offset = last.nextOffset
        }
        #expect(names.filter { $0 != "." && $0 != ".." }.count == 300)
        #expect(Set(names).count == names.count)
        // seekdir to a cookie handed out earlier lists the same entry again.
        var again = RecordingSink(capacity: 1)
        try fs.readDirectory(node: .root, offset: savedOffset, into: &again)
        #expect(again.added.first?.name == savedNext)
    }

    @Test func negativeLookupsAreCachedOnlyWhenAsked() throws {
        let directory = sampleTree()
        let cached = try makeFileSystem(directory, negativeTimeout: 1)
        #expect(try cached.lookup(parent: .root, name: FileName("missing")).node == NodeID.none)
        let uncached = try makeFileSystem(directory, negativeTimeout: 0)
        #expect(throws: Errno.noEntry) { try uncached.lookup(parent: .root, name: FileName("missing")) }
    }

    @Test func namesThatAreNotOneComponentAreRefused() throws {
        let fs = try makeFileSystem(sampleTree())
        for bad in ["..", ".", "a/b", ""] {
            #expect(throws: Errno.invalid) { try fs.lookup(parent: .root, name: FileName(bad)) }
        }
    }

    @Test func createWriteReadAndRename() throws {
        let directory = sampleTree()
        let fs = try makeFileSystem(directory)
        let (entry, open) = try fs.create(parent: .root, name: FileName("new"), mode: S_IFREG | 0o640, flags: O_RDWR, caller: caller)
        let written = try fs.write(node: entry.node, handle: open.handle, fromPageCache: false, caller: caller) { descriptor in pwrite(descriptor, "payload", 7, 0) }
        #expect(written == 7)
        try fs.flush(node: entry.node, handle: open.handle, lockOwner: 0)
        fs.release(node: entry.node, handle: open.handle)
        #expect(directory.contents("new") == "payload")
        #expect(directory.lstatMode("new").map { $0 & 0o777 } == 0o640)
        try fs.rename(parent: .root, name: FileName("new"), newParent: .root, newName: FileName("renamed"), flags: 0)
        // The node follows the rename: getattr by node still works.
        #expect(try fs.getAttributes(node: entry.node, handle: nil).attributes.stat.st_size == 7)
        #expect(throws: Errno.exists) {
            try fs.rename(parent: .root, name: FileName("renamed"), newParent: .root, newName: FileName("file"), flags: clinux_RENAME_NOREPLACE)
        }
    }

    /// A walk's next listing comes from memory, unless something changed through the mount since.
    @Test(arguments: [false, true])
    func walksAreServedFromListingsReadAhead(changeFirst: Bool) throws {
        let directory = TemporaryDirectory()
        for path in ["a", "a/b"] { directory.makeDirectory(path) }
        directory.makeFile("a/b/old")
        let fs = try makeFileSystem(directory)
        let a = try #require(list(fs, .root, plus: true).added.first { $0.name == "a" }?.node)
        // Listing a subdirectory of what was just listed is a walk: a/b is read ahead.
        let b = try #require(list(fs, a, plus: true).added.first { $0.name == "b" }?.node)
        for _ in 0..<500 where fs.listingStatistics.snapshot.readAhead == 0 { usleep(2_000) }
        if changeFirst {
            let (entry, open) = try fs.create(parent: b, name: FileName("new"), mode: S_IFREG | 0o644, flags: O_RDWR, caller: caller)
            fs.release(node: entry.node, handle: open.handle)
        }
        let listing = try list(fs, b, plus: true)
        #expect(listing.names == (changeFirst ? ["new", "old"] : ["old"]))
        #expect(listing.type(of: "old") == .regular)
        #expect(fs.listingStatistics.snapshot.readAheadUsed == (changeFirst ? 0 : 1))
    }

    /// A depth-first walker goes down faster than listings a level ahead are read: the
    /// subdirectories of a listing read ahead are read too, by inode and path, to any depth, and
    /// adopted under their nodes when the walker lists their parent, so each level comes from memory.
    @Test func aWalkReadsAheadDownToTheBottom() throws {
        let directory = TemporaryDirectory()
        for path in ["a", "a/b", "a/b/c", "a/b/c/d", "a/b/c/d/e"] { directory.makeDirectory(path) }
        let fs = try makeFileSystem(directory)
        func waitForReadAhead(_ count: Int) {
            for _ in 0..<500 where fs.listingStatistics.snapshot.readAhead < count { usleep(2_000) }
        }
        let a = try #require(list(fs, .root, plus: true).added.first { $0.name == "a" }?.node)
        let b = try #require(list(fs, a, plus: true).added.first { $0.name == "b" }?.node)
        // b is read ahead, then c, d and e by inode before any listing gave them a node.
        waitForReadAhead(4)
        #expect(fs.listingStatistics.snapshot.readAhead == 4)
        let c = try #require(list(fs, b, plus: true).added.first { $0.name == "c" }?.node)
        let d = try #require(list(fs, c, plus: true).added.first { $0.name == "d" }?.node)
        let e = try #require(list(fs, d, plus: true).added.first { $0.name == "e" }?.node)
        #expect(try list(fs, e, plus: true).names == [])
        #expect(fs.listingStatistics.snapshot.readAheadUsed == 4, "a level was not served from memory")
        #expect(fs.listingStatistics.snapshot.readAhead == 4, "a level was read twice")
    }

    /// A listing read ahead and parked after a partial reply is continued only while nothing changed
    /// through the mount: another listing of the directory may be the one continuing at that offset.
    @Test func aListingReadAheadIsNotContinuedAfterAChange() throws {
        let directory = TemporaryDirectory()
        for path in ["a", "a/b"] { directory.makeDirectory(path) }
        for index in 0..<10 { directory.makeFile("a/b/f\(index)") }
        let fs = try makeFileSystem(directory)
        let a = try #require(list(fs, .root, plus: true).added.first { $0.name == "a" }?.node)
        let b = try #require(list(fs, a, plus: true).added.first { $0.name == "b" }?.node)
        for _ in 0..<500 where fs.listingStatistics.snapshot.readAhead == 0 { usleep(2_000) }
        var first = RecordingSink(plus: true, capacity: 3)
        try fs.readDirectory(node: b, offset: 0, into: &first)
        #expect(fs.listingStatistics.snapshot.readAheadUsed == 1)
        for index in 0..<10 { try fs.unlink(parent: b, name: FileName("f\(index)")) }
        var rest = RecordingSink(plus: true)
        try fs.readDirectory(node: b, offset: try #require(first.added.last?.nextOffset), into: &rest)
        #expect(rest.names == [], "removed files listed from a stale listing read ahead")
    }

    /// While a walker follows links, a link's target is read with its listing read ahead, and its
    /// READLINK answered from memory; not after a change through the mount, nor when nobody follows.
    @Test(arguments: [false, true])
    func linksFollowedDuringAWalkAreAnsweredFromTheirListing(changeFirst: Bool) throws {
        let directory = TemporaryDirectory()
        for path in ["a", "a/b"] { directory.makeDirectory(path) }
        directory.makeSymlink("first", to: "a")
        directory.makeSymlink("a/b/link", to: "../../first")
        let fs = try makeFileSystem(directory)
        let root = try list(fs, .root, plus: true)
        // The walker follows a link: that READLINK reads the backing.
        #expect(try fs.readLink(node: #require(root.added.first { $0.name == "first" }?.node)) == Array("a".utf8))
        let a = try #require(root.added.first { $0.name == "a" }?.node)
        let b = try #require(list(fs, a, plus: true).added.first { $0.name == "b" }?.node)
        for _ in 0..<500 where fs.listingStatistics.snapshot.readAhead == 0 { usleep(2_000) }
        let link = try #require(list(fs, b, plus: true).added.first { $0.name == "link" }?.node)
        #expect(fs.listingStatistics.snapshot.linkTargetsReadAhead == 1)
        if changeFirst {
            let (entry, open) = try fs.create(parent: b, name: FileName("new"), mode: S_IFREG | 0o644, flags: O_RDWR, caller: caller)
            fs.release(node: entry.node, handle: open.handle)
        }
        #expect(try fs.readLink(node: link) == Array("../../first".utf8))
        #expect(fs.listingStatistics.snapshot.linkTargetsUsed == (changeFirst ? 0 : 1))
    }

    /// While a walker asks every entry for an extended attribute (ls -l), the answers are read with
    /// the listings read ahead, without following links, and GETXATTR is answered from memory; not
    /// after a change through the mount.
    @Test(arguments: [false, true])
    func extendedAttributesAskedDuringAWalkAreAnsweredFromTheirListing(changeFirst: Bool) throws {
        let directory = TemporaryDirectory()
        for path in ["a", "a/b"] { directory.makeDirectory(path) }
        for path in ["first", "a/b/tagged", "a/b/plain"] { directory.makeFile(path) }
        directory.makeSymlink("first-link", to: "first")
        directory.makeSymlink("a/b/link", to: "tagged")
        #expect(setxattr(directory.url("a/b/tagged"), "user.tag", "v", 1, 0) == 0)
        let fs = try makeFileSystem(directory)
        let name = FileName("user.tag")
        func ask(_ node: NodeID) -> Result<ExtendedAttributeReply, Errno> {
            Result { () throws(Errno) -> ExtendedAttributeReply in try fs.getExtendedAttribute(node: node, name: name, size: 64) }
        }
        let root = try list(fs, .root, plus: true)
        // The walker asks the first entries: from the backing, and from now on read with listings.
        for entry in ["first", "first-link"] { _ = ask(try #require(root.added.first { $0.name == entry }?.node)) }
        let a = try #require(root.added.first { $0.name == "a" }?.node)
        let b = try #require(list(fs, a, plus: true).added.first { $0.name == "b" }?.node)
        for _ in 0..<500 where fs.listingStatistics.snapshot.readAhead == 0 { usleep(2_000) }
        let listing = try list(fs, b, plus: true)
        #expect(fs.listingStatistics.snapshot.extendedAttributesReadAhead == 3, "tagged, plain and link: not b, a directory")
        if changeFirst {
            let (entry, open) = try fs.create(parent: b, name: FileName("new"), mode: S_IFREG | 0o644, flags: O_RDWR, caller: caller)
            fs.release(node: entry.node, handle: open.handle)
        }
        func answer(_ entry: String) throws -> String {
            switch ask(try #require(listing.added.first { $0.name == entry }?.node)) {
            case let .success(.bytes(bytes)): String(decoding: bytes, as: UTF8.self)
            case let .success(.size(size)): "size \(size)"
            case let .failure(error): "\(error.rawValue == ENODATA ? "ENODATA" : "\(error)")"
            }
        }
        #expect(try answer("tagged") == "v")
        #expect(try answer("plain") == "ENODATA")
        #expect(try answer("link") == "ENODATA", "the link's own attribute, not its target's")
        #expect(fs.listingStatistics.snapshot.extendedAttributesUsed == (changeFirst ? 0 : 3))
    }

    /// Once a listing is read ahead with its links' targets, where those targets lead is looked up
    /// beneath the root: never above it, never through a symlink, never an absolute target.
    @Test func theTargetsOfLinksReadAheadAreLookedUpBeneathTheRootOnly() throws {
        let outside = TemporaryDirectory()
        outside.makeFile("x")
        let directory = TemporaryDirectory()
        for path in ["a", "a/b", "c", "c/d"] { directory.makeDirectory(path) }
        directory.makeSymlink("first", to: "a")
        directory.makeSymlink("via", to: outside.path)
        directory.makeSymlink("a/b/inside", to: "../../c/d")
        directory.makeSymlink("a/b/above", to: "../../../\(outside.path.split(separator: "/").last!)/x")
        directory.makeSymlink("a/b/absolute", to: outside.url("x"))
        directory.makeSymlink("a/b/through-a-link", to: "../../via/x")
        directory.makeSymlink("a/b/dangling", to: "../missing")
        let fs = try makeFileSystem(directory)
        let root = try list(fs, .root, plus: true)
        _ = try fs.readLink(node: #require(root.added.first { $0.name == "first" }?.node))
        let a = try #require(root.added.first { $0.name == "a" }?.node)
        _ = try list(fs, a, plus: true)
        for _ in 0..<500 where fs.listingStatistics.snapshot.linkTargetPathsResolved == 0 { usleep(2_000) }
        usleep(20_000)  // the other targets of the listing, had any been resolved
        #expect(fs.listingStatistics.snapshot.linkTargetsReadAhead == 0, "b's listing is still unclaimed")
        #expect(fs.listingStatistics.snapshot.linkTargetPathsResolved == 1, "only ../../c/d leads beneath the root")
    }

    /// Past the listed-node budget files are listed without a node, but a link the walker is about
    /// to follow still gets one: it would be looked up next anyway, and its target is kept under it.
    @Test func aLinkAboutToBeFollowedGetsANodePastTheBudget() throws {
        let directory = TemporaryDirectory()
        for path in ["a", "a/b"] { directory.makeDirectory(path) }
        directory.makeSymlink("first", to: "a")
        directory.makeSymlink("a/b/link", to: "../../first")
        directory.makeFile("a/b/file")
        var configuration = PassthroughConfiguration()
        configuration.listedNodeBudget = 1  // the root alone fills it
        let fs = try PassthroughFileSystem(source: directory.path, configuration: configuration)
        let a = try #require(list(fs, .root, plus: true).added.first { $0.name == "a" }?.node)
        _ = try fs.readLink(node: fs.lookup(parent: .root, name: FileName("first")).node)
        let b = try #require(list(fs, a, plus: true).added.first { $0.name == "b" }?.node)
        for _ in 0..<500 where fs.listingStatistics.snapshot.readAhead == 0 { usleep(2_000) }
        let listing = try list(fs, b, plus: true)
        #expect(listing.added.first { $0.name == "file" }?.node == NodeID.none)
        let link = try #require(listing.added.first { $0.name == "link" }?.node)
        #expect(link != NodeID.none)
        #expect(try fs.readLink(node: link) == Array("../../first".utf8))
        #expect(fs.listingStatistics.snapshot.linkTargetsUsed == 1)
    }

    @Test func noTargetIsReadWhileNoLinkIsFollowed() throws {
        let directory = TemporaryDirectory()
        for path in ["a", "a/b"] { directory.makeDirectory(path) }
        directory.makeSymlink("a/b/link", to: "elsewhere")
        let fs = try makeFileSystem(directory)
        let a = try #require(list(fs, .root, plus: true).added.first { $0.name == "a" }?.node)
        let b = try #require(list(fs, a, plus: true).added.first { $0.name == "b" }?.node)
        for _ in 0..<500 where fs.listingStatistics.snapshot.readAhead == 0 { usleep(2_000) }
        let link = try #require(list(fs, b, plus: true).added.first { $0.name == "link" }?.node)
        #expect(fs.listingStatistics.snapshot.readAheadUsed == 1)
        #expect(fs.listingStatistics.snapshot.linkTargetsReadAhead == 0)
        #expect(try fs.readLink(node: link) == Array("elsewhere".utf8))
    }

    @Test func hardLinksShareTheNode() throws {
        let directory = sampleTree()
        let fs = try makeFileSystem(directory)
        let file = try fs.lookup(parent: .root, name: FileName("file"))
        let linked = try fs.link(node: file.node, newParent: .root, newName: FileName("hard"))
        #expect(linked.node == file.node)
        #expect(linked.attributes.stat.st_nlink == 2)
        try fs.unlink(parent: .root, name: FileName("file"))
        // The other name still reaches the node.
        #expect(try fs.getAttributes(node: file.node, handle: nil).attributes.stat.st_nlink == 1)
    }

    @Test func setAttributesChangesModeSizeAndTimes() throws {
        let directory = sampleTree()
        let fs = try makeFileSystem(directory)
        let file = try fs.lookup(parent: .root, name: FileName("file"))
        let changes = AttributeChanges(mode: 0o600, size: 2, accessTime: .set(seconds: 1000, nanoseconds: 5),
                                       modificationTime: .set(seconds: 2000, nanoseconds: 7))
        let reply = try fs.setAttributes(node: file.node, changes: changes, handle: nil, caller: caller)
        #expect(reply.attributes.stat.st_mode & 0o777 == 0o600)
        #expect(reply.attributes.stat.st_size == 2)
        #expect(reply.attributes.stat.st_mtim.tv_sec == 2000 && reply.attributes.stat.st_mtim.tv_nsec == 7)
        #expect(reply.attributes.stat.st_atim.tv_sec == 1000)
        // Omitted times stay; a link's mode cannot change (no lchmod).
        let link = try fs.lookup(parent: .root, name: FileName("link-to-file"))
        #expect(throws: Errno.notSupported) {
            try fs.setAttributes(node: link.node, changes: AttributeChanges(mode: 0o777), handle: nil, caller: caller)
        }
        _ = try fs.setAttributes(node: link.node, changes: AttributeChanges(modificationTime: .set(seconds: 3000, nanoseconds: 0)),
                                 handle: nil, caller: caller)
        var status = stat()
        lstat(directory.url("link-to-file"), &status)
        #expect(status.st_mtim.tv_sec == 3000)
        stat(directory.url("file"), &status)
        #expect(status.st_mtim.tv_sec == 2000)
    }

    @Test func readLinkAndExtendedAttributes() throws {
        let directory = sampleTree()
        let fs = try makeFileSystem(directory)
        let link = try fs.lookup(parent: .root, name: FileName("link-to-dir"))
        #expect(try fs.readLink(node: link.node) == Array("dir".utf8))
        let file = try fs.lookup(parent: .root, name: FileName("file"))
        let value: [UInt8] = Array("v1".utf8)
        do {
            try value.withUnsafeBytes { buffer in
                try fs.setExtendedAttribute(node: file.node, name: FileName("user.test"), value: buffer, flags: 0, caller: caller)
            }
        } catch let error as Errno where error == Errno.notSupported {
            return  // the temp filesystem has no user xattrs
        }
        guard case let .bytes(read) = try fs.getExtendedAttribute(node: file.node, name: FileName("user.test"), size: 64) else {
            Issue.record("expected bytes")
            return
        }
        #expect(read == value)
        #expect(throws: Errno(ENODATA)) { try fs.getExtendedAttribute(node: file.node, name: FileName("user.none"), size: 64) }
        // On a link the call acts on the link itself, never its target: Linux refuses user.* there,
        // and the target's value stays as it was.
        #expect(throws: Errno.permission) {
            try value.withUnsafeBytes { buffer in
                try fs.setExtendedAttribute(node: link.node, name: FileName("user.test"), value: buffer, flags: 0, caller: caller)
            }
        }
        let fileLink = try fs.lookup(parent: .root, name: FileName("link-to-file"))
        #expect(throws: Errno(ENODATA)) { try fs.getExtendedAttribute(node: fileLink.node, name: FileName("user.test"), size: 64) }
        let trusted: [UInt8] = Array("t".utf8)
        try trusted.withUnsafeBytes { buffer in
            try fs.setExtendedAttribute(node: fileLink.node, name: FileName("trusted.test"), value: buffer, flags: 0, caller: caller)
        }
        guard case let .bytes(onLink) = try fs.getExtendedAttribute(node: fileLink.node, name: FileName("trusted.test"), size: 64) else {
            Issue.record("expected bytes")
            return
        }
        #expect(onLink == trusted)
        #expect(throws: Errno(ENODATA)) { try fs.getExtendedAttribute(node: file.node, name: FileName("trusted.test"), size: 64) }
    }

    /// Subdirectories read ahead by path (any depth below the nearest node) are opened beneath that
    /// node only, through no link, and only if still the inode listed.
    @Test func aSubdirectoryReadAheadByPathNeverLeavesItsParent() throws {
        let outside = TemporaryDirectory()
        outside.makeDirectory("x")
        let directory = TemporaryDirectory()
        for path in ["a", "a/b", "a/b/c"] { directory.makeDirectory(path) }
        directory.makeSymlink("a/l", to: outside.path)
        let fs = try makeFileSystem(directory)
        let a = try fs.lookup(parent: .root, name: FileName("a")).node
        func key(_ path: String) -> InodeKey {
            var status = stat()
            lstat(path, &status)
            return InodeKey(status)
        }
        func opens(_ path: String, _ key: InodeKey) -> Bool {
            fs.tree.openSubdirectory(of: a, at: Array(path.utf8) + [0], ifStill: key) != nil
        }
        #expect(opens("b/c", key(directory.url("a/b/c"))))
        #expect(!opens("b/c", key(directory.url("a/b"))), "another inode than listed")
        #expect(!opens("l/x", key(outside.url("x"))), "through a link")
        #expect(!opens("../a/b", key(directory.url("a/b"))), "above the parent")
    }

    /// Another client swaps a directory we know for a symlink pointing outside: every operation on
    /// the old node must fail instead of following it, and the outside must stay untouched.
    @Test func aDirectorySwappedForAnOutsideSymlinkIsNeverFollowed() throws {
        let outside = TemporaryDirectory()
        outside.makeFile("victim", contents: "keep")
        chmod(outside.url("victim"), 0o644)
        let directory = TemporaryDirectory()
        directory.makeDirectory("d")
        directory.makeFile("d/victim", contents: "inside")
        let fs = try makeFileSystem(directory)
        let dir = try fs.lookup(parent: .root, name: FileName("d"))
        let victim = try fs.lookup(parent: dir.node, name: FileName("victim"))
        #expect(rename(directory.url("d"), directory.url("d-old")) == 0)
        directory.makeSymlink("d", to: outside.path)

        #expect(throws: Errno.self) { try fs.setAttributes(node: victim.node, changes: AttributeChanges(mode: 0o777, size: 0), handle: nil, caller: caller) }
        #expect(throws: Errno.self) { try fs.open(node: victim.node, flags: O_WRONLY | O_TRUNC, caller: caller) }
        #expect(throws: Errno.self) { try fs.create(parent: dir.node, name: FileName("new"), mode: S_IFREG | 0o644, flags: O_WRONLY, caller: caller) }
        #expect(throws: Errno.self) { try fs.makeDirectory(parent: dir.node, name: FileName("newdir"), mode: 0o755, caller: caller) }
        #expect(throws: Errno.self) { try fs.unlink(parent: dir.node, name: FileName("victim")) }
        #expect(try list(fs, dir.node).added.isEmpty)

        #expect(outside.contents("victim") == "keep")
        #expect(outside.lstatMode("victim").map { $0 & 0o777 } == 0o644)
        #expect(outside.lstatMode("new") == nil)
        #expect(outside.lstatMode("newdir") == nil)
    }
}

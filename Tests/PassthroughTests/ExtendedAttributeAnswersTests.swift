import FuseKit
import Glibc
@testable import Passthrough
import LinuxKit
import Testing

/// getxattr answers kept from listings read ahead: which names are read, for which entries, how
/// many are kept.
struct ExtendedAttributeAnswersTests {
    let stamp = DirectoryStream.ReadAheadStamp(epoch: 3, readAt: 42)
    let selinux = Array("security.selinux".utf8), acl = Array("system.posix_acl_access".utf8)

    @Test func namesAreWantedOnlyWhileAskedAndForTheTypesAskedOf() throws {
        let answers = ExtendedAttributeAnswers(askWindow: 1_000)
        #expect(answers.wantedNames(now: 0).isEmpty, "nothing asked yet")
        answers.asked(selinux, of: .regular, now: 5_000)
        answers.asked(selinux, of: .directory, now: 5_100)
        answers.asked(acl, of: .directory, now: 5_500)
        let wanted = answers.wantedNames(now: 5_999)
        #expect(wanted.map(\.name) == [selinux, acl])
        #expect(wanted[0].types == [.regular, .directory])
        #expect(wanted[1].types == [.directory], "asked of directories only")
        #expect(answers.wantedNames(now: 6_200).map(\.name) == [acl], "selinux was last asked longer ago than the window")
        // A name asked again after its window starts over with the type asked now.
        answers.asked(selinux, of: .symbolicLink, now: 9_000)
        #expect(try #require(answers.wantedNames(now: 9_001).first).types == [.symbolicLink])
    }

    @Test func atMostALimitOfNamesIsRead() {
        let answers = ExtendedAttributeAnswers(askWindow: 1_000)
        for index in 0..<(ExtendedAttributeAnswers.nameLimit + 2) { answers.asked(Array("user.n\(index)".utf8), of: .regular, now: 100 + Int64(index)) }
        let wanted = answers.wantedNames(now: 200).map { String(decoding: $0.name, as: UTF8.self) }
        #expect(wanted.count == ExtendedAttributeAnswers.nameLimit)
        #expect(wanted.last == "user.n\(ExtendedAttributeAnswers.nameLimit + 1)" && !wanted.contains("user.n0"), "the oldest asked go first")
    }

    @Test func anAnswerIsTakenOnceWithItsStamp() throws {
        let answers = ExtendedAttributeAnswers(askWindow: 1_000)
        answers.keep([(selinux, .failure(Errno(ENODATA))), (acl, .value([1, 2]))], for: NodeID(7), stamp: stamp)
        let taken = try #require(answers.take(NodeID(7), name: acl))
        #expect(taken.answer == .value([1, 2]) && taken.stamp == stamp)
        #expect(answers.take(NodeID(7), name: acl) == nil, "a second GETXATTR reads the backing")
        #expect(answers.take(NodeID(7), name: selinux)?.answer == .failure(Errno(ENODATA)))
        #expect(answers.take(NodeID(8), name: selinux) == nil)
    }

    @Test func theOldestAnswersGoFirst() {
        let answers = ExtendedAttributeAnswers(capacity: 3, askWindow: 1_000)
        for node in 1...5 { answers.keep([(selinux, .value([UInt8(node)]))], for: NodeID(UInt64(node)), stamp: stamp) }
        #expect(answers.count == 3)
        #expect(answers.take(NodeID(1), name: selinux) == nil && answers.take(NodeID(2), name: selinux) == nil)
        #expect(answers.take(NodeID(5), name: selinux)?.answer == .value([5]))
    }
}

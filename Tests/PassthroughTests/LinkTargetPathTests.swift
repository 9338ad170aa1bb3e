@testable import Passthrough
import Testing

/// Where a link's relative target leads beneath the root, from the names alone.
struct LinkTargetPathTests {
    private func resolve(_ directory: String, _ target: String) -> String? {
        LinkTargetPath.beneathRoot(directory: Array(directory.utf8) + [0], target: Array(target.utf8))
            .map { String(decoding: $0.dropLast(), as: UTF8.self) }
    }

    @Test func relativeTargetsAreJoinedToTheLinksDirectory() {
        #expect(resolve("a/b", "c") == "a/b/c")
        #expect(resolve("a/b", "../../c/d") == "c/d")
        #expect(resolve("a/b", "./c//d/") == "a/b/c/d")
        #expect(resolve("a/b", "../c/../d") == "a/d")
        #expect(resolve(".", "a/b") == "a/b", "the root is \".\" in the node table")
    }

    @Test func theResultIsNULTerminatedWhateverTheInputs() {
        #expect(LinkTargetPath.beneathRoot(directory: Array("a".utf8), target: Array("b".utf8) + [0]) == Array("a/b".utf8) + [0])
    }

    @Test func targetsLeavingTheRootOrReachingItAreRefused() {
        #expect(resolve("a/b", "../../../outside") == nil, "climbs above the root")
        #expect(resolve("a", "../x/../../y") == nil, "climbs above the root on the way")
        #expect(resolve("a/b", "/etc/passwd") == nil, "absolute: resolved in the caller's namespace")
        #expect(resolve("a/b", "../..") == nil, "the root itself is always cached")
        #expect(resolve("a/b", "") == nil)
        #expect(resolve("a", String(repeating: "x/", count: 2100)) == nil, "longer than PATH_MAX")
    }
}

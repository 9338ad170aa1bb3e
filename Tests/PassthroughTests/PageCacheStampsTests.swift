import FuseKit
import Glibc
@testable import Passthrough
import Testing

@Suite struct PageCacheStampsTests {
    let node = NodeID(5)
    let second: Int64 = 1_000_000_000

    func status(size: Int = 10, mtime: Int = 100, ctime: Int = 100, ctimeNanoseconds: Int = 0) -> stat {
        var status = stat()
        status.st_ino = 42
        status.st_size = size
        status.st_mtim = timespec(tv_sec: mtime, tv_nsec: 0)
        status.st_ctim = timespec(tv_sec: ctime, tv_nsec: ctimeNanoseconds)
        return status
    }

    @Test func anUnchangedSettledFileKeepsItsPagesFromTheSecondOpenOn() {
        let stamps = PageCacheStamps()
        #expect(!stamps.opened(node, status(), now: 200 * second), "nothing cached before the first open")
        #expect(stamps.opened(node, status(), now: 201 * second))
        #expect(stamps.opened(node, status(), now: 202 * second))
    }

    @Test func anyDifferenceDropsThem() {
        let stamps = PageCacheStamps()
        _ = stamps.opened(node, status(), now: 200 * second)
        #expect(!stamps.opened(node, status(size: 11, ctime: 150), now: 201 * second))
        #expect(!stamps.opened(node, status(size: 11, ctime: 150, ctimeNanoseconds: 1), now: 202 * second))
        #expect(!stamps.opened(node, status(size: 11, mtime: 99, ctime: 150, ctimeNanoseconds: 1), now: 203 * second))
    }

    @Test func aStampTakenWithinASecondOfTheLastChangeNeverCounts() {
        // A write in the same timestamp tick would leave ctime as it was (xfstests generic/451).
        let stamps = PageCacheStamps()
        #expect(!stamps.opened(node, status(ctime: 100), now: 100 * second + second / 2))
        #expect(!stamps.opened(node, status(ctime: 100), now: 100 * second + second / 2 + 1), "the recent stamp was not kept")
        #expect(!stamps.opened(node, status(ctime: 100), now: 101 * second), "first stamp that counts")
        #expect(stamps.opened(node, status(ctime: 100), now: 102 * second))
    }

    @Test func aForgottenNodeStartsOver() {
        let stamps = PageCacheStamps()
        _ = stamps.opened(node, status(), now: 200 * second)
        stamps.forget(node)
        #expect(!stamps.opened(node, status(), now: 201 * second))
    }
}

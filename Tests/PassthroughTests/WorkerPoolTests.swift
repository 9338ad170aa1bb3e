import Glibc
import Synchronization
import Testing
@testable import Passthrough

@Suite struct WorkerPoolTests {
    @Test func everyIndexRunsOnceAndTheThreadsEndAtStop() {
        let pool = WorkerPool(threads: 3)
        let counts = Mutex([Int](repeating: 0, count: 64))
        pool.run(range: 0..<64) { index in
            usleep(200)  // long enough for the helpers to take part
            counts.withLock { $0[index] += 1 }
        }
        #expect(counts.withLock { $0.allSatisfy { $0 == 1 } })
        #expect(pool.threads == 3)
        pool.stop()
        for _ in 0..<500 where pool.threads > 0 { usleep(2_000) }
        #expect(pool.threads == 0)
        // Stopped: the caller alone still runs every index.
        let after = Atomic(0)
        pool.run(range: 0..<10) { _ in after.add(1, ordering: .relaxed) }
        #expect(after.load(ordering: .relaxed) == 10)
    }
}

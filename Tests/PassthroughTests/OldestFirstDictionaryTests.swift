@testable import Passthrough
import Testing

/// The bounded stores' shared order: oldest first, whatever was removed or replaced meanwhile.
struct OldestFirstDictionaryTests {
    @Test func theOldestGoesFirstSkippingRemovedAndReplacedKeys() {
        var dictionary = OldestFirstDictionary<Int, String>()
        for key in 1...4 { dictionary.updateValue("v\(key)", forKey: key) }
        #expect(dictionary.removeValue(forKey: 1) == "v1")
        #expect(dictionary.updateValue("again", forKey: 2) == "v2", "replaced: now the newest")
        #expect(dictionary.oldest?.key == 3, "seen, left in place")
        #expect(dictionary.removeOldest()?.key == 3)
        #expect(dictionary.removeOldest()?.key == 4)
        #expect(dictionary.removeOldest()?.value == "again")
        #expect(dictionary.removeOldest() == nil)
        #expect(dictionary.count == 0)
    }

    @Test func manyReplacementsAndRemovalsKeepTheOrderRight() {
        var dictionary = OldestFirstDictionary<Int, Int>()
        for round in 0..<100_000 {
            dictionary.updateValue(round, forKey: round % 10)
            if round % 3 == 0 { _ = dictionary.removeValue(forKey: round % 10) }
        }
        #expect(dictionary.count <= 10)
        var drained = 0
        while dictionary.removeOldest() != nil { drained += 1 }
        #expect(drained <= 10)
        #expect(dictionary[3] == nil)
    }
}

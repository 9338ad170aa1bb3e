import FuseKit
import Synchronization
import LinuxKit

/// Answers to getxattr read with listings read ahead, for the GETXATTRs of a walker that asks every
/// entry for the same names: `ls -l` asks each entry for `security.selinux` and
/// `system.posix_acl_access`, and FUSE caches no extended attributes, so on a share each is a round
/// trip the walker waits for, twice per entry. Read with the listing, in the background and
/// concurrently, the walker's GETXATTR is answered from memory.
///
/// Invariants:
/// - only names asked lately (`asked`, within `askWindow`) are read, at most `nameLimit` of them,
///   and only of entries of the types they were asked of (`ls -l` asks directories one name more):
///   a walk that asks none (find, du, os.walk) costs the backing nothing more;
/// - an answer is what the backing said for that name (the value, or the error such as ENODATA or
///   EOPNOTSUPP); values longer than `valueLimit` are not kept;
/// - an answer is served once, and only while its listing is fresh (`ListingReadAhead.isFresh`):
///   any change through the mount, or the attribute timeout, ends it;
/// - bounded: at most `capacity` answers, the oldest dropped first.
final class ExtendedAttributeAnswers: Sendable {
    typealias Stamp = DirectoryStream.ReadAheadStamp

    enum Answer: Sendable, Equatable {
        case value([UInt8])
        case failure(Errno)
    }

    /// An answer to one name.
    typealias Named = (name: [UInt8], answer: Answer)

    private struct Key: Hashable {
        let node: NodeID
        let name: [UInt8]
    }

    private struct Kept {
        let answer: Answer
        let stamp: Stamp
    }

    private let kept = Mutex(OldestFirstDictionary<Key, Kept>())
    /// A name asked lately and the types of the entries it was asked of.
    struct WantedName: Sendable {
        var name: [UInt8]
        var types: Set<FileType>
    }

    /// Names asked lately, with when each was last asked, oldest first.
    private let askedNames = Mutex<[(wanted: WantedName, at: Int64)]>([])
    let capacity: Int
    /// How long after a GETXATTR of a name it is still read with listings.
    let askWindow: Int64

    /// `ls -l` asks two names; a few more leave room for `getfattr`-like walkers.
    static let nameLimit = 4
    /// A label or a small ACL; longer values are read when asked.
    static let valueLimit = 256

    /// `askWindow` in nanoseconds.
    init(capacity: Int = 8_192, askWindow: Int64) {
        self.capacity = max(1, capacity)
        self.askWindow = askWindow
    }

    /// A GETXATTR of `name` was asked of an entry of `type`: a walker may ask the next entries of
    /// that type for it too.
    func asked(_ name: [UInt8], of type: FileType, now: Int64 = SystemCall.monotonicNanoseconds()) {
        askedNames.withLock { names in
            var wanted = WantedName(name: name, types: [type])
            if let index = names.firstIndex(where: { $0.wanted.name == name }) {
                if now - names[index].at < askWindow { wanted.types.formUnion(names[index].wanted.types) }
                names.remove(at: index)
            }
            names.append((wanted, now))
            if names.count > Self.nameLimit { names.removeFirst(names.count - Self.nameLimit) }
        }
    }

    /// The names listings read now should read, oldest asked first.
    func wantedNames(now: Int64 = SystemCall.monotonicNanoseconds()) -> [WantedName] {
        askedNames.withLock { names in names.filter { now - $0.at < askWindow }.map(\.wanted) }
    }

    /// Keeps `answers` (by name) for `node`, read with the listing stamped `stamp`.
    func keep(_ answers: [Named], for node: NodeID, stamp: Stamp) {
        kept.withLock { kept in
            for (name, answer) in answers {
                kept.updateValue(Kept(answer: answer, stamp: stamp), forKey: Key(node: node, name: name))
            }
            while kept.count > capacity, kept.removeOldest() != nil {}
        }
    }

    /// The answer kept for `node` and `name` and its listing's stamp, removed: a second GETXATTR of
    /// the same name reads the backing.
    func take(_ node: NodeID, name: [UInt8]) -> (answer: Answer, stamp: Stamp)? {
        kept.withLock { $0.removeValue(forKey: Key(node: node, name: name)).map { ($0.answer, $0.stamp) } }
    }

    /// How many answers are kept.
    var count: Int { kept.withLock { $0.count } }
}

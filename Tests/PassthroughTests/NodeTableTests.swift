import FuseKit
import Testing
@testable import Passthrough

@Suite struct NodeTableTests {
    let rootKey = InodeKey(device: 1, inode: 2, type: .directory)

    func path(_ table: NodeTable, _ node: NodeID) -> String? {
        table.path(of: node).map { String(decoding: $0.dropLast(), as: UTF8.self) }
    }

    @Test func rootIsDotAndNeverForgotten() {
        let table = NodeTable(rootKey: rootKey)
        #expect(path(table, .root) == ".")
        table.forget(.root, count: 100)
        #expect(path(table, .root) == ".")
    }

    @Test func lookupsCountAndForgetRemoves() {
        let table = NodeTable(rootKey: rootKey)
        let key = InodeKey(device: 1, inode: 10, type: .directory)
        let first = table.remember(parent: .root, name: Array("a".utf8), key: key)
        let second = table.remember(parent: .root, name: Array("a".utf8), key: key)
        #expect(first == second)
        #expect(table.count == 2)
        table.forget(first, count: 1)
        #expect(path(table, first) == "a")
        table.forget(first, count: 1)
        #expect(path(table, first) == nil)
        #expect(table.count == 1)
    }

    @Test func nodeIDsAreNeverReused() {
        let table = NodeTable(rootKey: rootKey)
        let key = InodeKey(device: 1, inode: 10, type: .regular)
        let first = table.remember(parent: .root, name: Array("a".utf8), key: key)
        table.forget(first, count: 1)
        let again = table.remember(parent: .root, name: Array("a".utf8), key: key)
        #expect(again != first)
    }

    @Test func nestedPathsFollowDirectoryRenames() {
        let table = NodeTable(rootKey: rootKey)
        let dirKey = InodeKey(device: 1, inode: 10, type: .directory)
        let dir = table.remember(parent: .root, name: Array("dir".utf8), key: dirKey)
        let file = table.remember(parent: dir, name: Array("file".utf8), key: InodeKey(device: 1, inode: 11, type: .regular))
        #expect(path(table, file) == "dir/file")
        table.moveNames([(dirKey, .init(parent: .root, name: Array("dir".utf8)), .init(parent: .root, name: Array("renamed".utf8)))])
        #expect(path(table, file) == "renamed/file")
    }

    /// xfstests generic/002: 20 names, the 8 newest removed, the first must still reach the node.
    @Test func everyNameOfManyHardLinksIsKept() {
        let table = NodeTable(rootKey: rootKey)
        let key = InodeKey(device: 1, inode: 20, type: .regular)
        let names = (0..<20).map { Array("link\($0)".utf8) }
        let node = names.map { table.remember(parent: .root, name: $0, key: key) }.first!
        for name in names.suffix(8) { table.removeName(parent: .root, name: name, key: key) }
        let left = Set(table.paths(of: node).map { String(decoding: $0.dropLast(), as: UTF8.self) })
        #expect(left == Set((0..<12).map { "link\($0)" }))
    }

    @Test func hardLinksShareOneNodeAndKeepOtherNames() {
        let table = NodeTable(rootKey: rootKey)
        let key = InodeKey(device: 1, inode: 20, type: .regular)
        let a = table.remember(parent: .root, name: Array("a".utf8), key: key)
        let b = table.remember(parent: .root, name: Array("b".utf8), key: key)
        #expect(a == b)
        table.removeName(parent: .root, name: Array("b".utf8), key: key)
        #expect(path(table, a) == "a")
        table.removeName(parent: .root, name: Array("a".utf8), key: key)
        #expect(path(table, a) == nil)
    }

    @Test func aFailedNameIsDroppedUnlessItIsTheLast() {
        let table = NodeTable(rootKey: rootKey)
        let dirKey = InodeKey(device: 1, inode: 40, type: .directory)
        let dir = table.remember(parent: .root, name: Array("dir".utf8), key: dirKey)
        let key = InodeKey(device: 1, inode: 41, type: .regular)
        let file = table.remember(parent: dir, name: Array("a".utf8), key: key)
        _ = table.remember(parent: dir, name: Array("b".utf8), key: key)
        table.removeName(of: file, path: Array("dir/b\0".utf8))
        #expect(table.paths(of: file).map { String(decoding: $0.dropLast(), as: UTF8.self) } == ["dir/a"])
        // Resolving "dir/a" failing while "dir" is renamed through the mount must not strand the
        // node: once the table follows the rename, the kept name works again.
        table.removeName(of: file, path: Array("dir/a\0".utf8))
        table.moveNames([(dirKey, .init(parent: .root, name: Array("dir".utf8)), .init(parent: .root, name: Array("moved".utf8)))])
        #expect(path(table, file) == "moved/a")
    }

    // Unstable inode numbers (CIFS noserverino): nodes are found by name.

    func link(_ parent: NodeID, _ name: String) -> NodeTable.Name { .init(parent: parent, name: Array(name.utf8)) }

    @Test func withUnstableNumbersANameKeepsItsNodeWhenItsNumberChanges() {
        let table = NodeTable(rootKey: rootKey, inodes: .unstable)
        let dir = table.remember(parent: .root, name: Array("a".utf8), key: InodeKey(device: 1, inode: 3, type: .directory))
        let again = table.remember(parent: .root, name: Array("a".utf8), key: InodeKey(device: 1, inode: 6, type: .directory))
        #expect(again == dir)
        #expect(table.key(of: dir)?.inode == 3, "the number first seen stays the node's")
        #expect(table.isSameObject(InodeKey(device: 1, inode: 9, type: .directory), as: table.key(of: dir)!))
        #expect(!table.isSameObject(InodeKey(device: 1, inode: 6, type: .regular), as: table.key(of: dir)!))
        // Another type under the name: a new node; the old one keeps the object it stood for.
        let file = table.remember(parent: .root, name: Array("a".utf8), key: InodeKey(device: 1, inode: 7, type: .regular))
        #expect(file != dir)
        #expect(path(table, dir) == "a")
    }

    @Test func withUnstableNumbersHardLinksAndReusedNumbersAreSeparateNodes() {
        let table = NodeTable(rootKey: rootKey, inodes: .unstable)
        let key = InodeKey(device: 1, inode: 20, type: .regular)
        let a = table.remember(parent: .root, name: Array("a".utf8), key: key)
        let b = table.remember(parent: .root, name: Array("b".utf8), key: key)
        #expect(a != b)
        table.removeName(parent: .root, name: Array("b".utf8), key: key)
        #expect(path(table, a) == "a")
        #expect(path(table, b) == nil)
    }

    @Test(arguments: InodeNumbers.allCases)
    func renamesAndExchangesMoveTheRightNodes(numbers: InodeNumbers) {
        let table = NodeTable(rootKey: rootKey, inodes: numbers)
        let keyA = InodeKey(device: 1, inode: 50, type: .regular), keyB = InodeKey(device: 1, inode: 51, type: .regular)
        let a = table.remember(parent: .root, name: Array("a".utf8), key: keyA)
        let b = table.remember(parent: .root, name: Array("b".utf8), key: keyB)
        table.moveNames([(keyB, link(.root, "b"), link(.root, "a")), (keyA, link(.root, "a"), link(.root, "b"))])
        #expect(path(table, a) == "b" && path(table, b) == "a")
        // Found again under their new names.
        #expect(table.remember(parent: .root, name: Array("b".utf8), key: keyA) == a)
        table.moveNames([(keyA, link(.root, "b"), link(.root, "c"))])
        #expect(path(table, a) == "c")
        #expect(table.remember(parent: .root, name: Array("c".utf8), key: keyA) == a)
        let dying = table.detach(parent: .root, name: Array("c".utf8), key: keyA)
        #expect(dying == a)
        table.finishDetach(a)
        #expect(table.remember(parent: .root, name: Array("c".utf8), key: keyA) != a)
    }

    @Test func aReusedInodeNumberOfAnotherTypeIsANewNode() {
        let table = NodeTable(rootKey: rootKey)
        let file = table.remember(parent: .root, name: Array("x".utf8), key: InodeKey(device: 1, inode: 30, type: .regular))
        let directory = table.remember(parent: .root, name: Array("x".utf8), key: InodeKey(device: 1, inode: 30, type: .directory))
        #expect(file != directory)
    }

    @Test func aChildOfAForgottenParentHasNoPath() {
        let table = NodeTable(rootKey: rootKey)
        let dir = table.remember(parent: .root, name: Array("d".utf8), key: InodeKey(device: 1, inode: 40, type: .directory))
        let child = table.remember(parent: dir, name: Array("c".utf8), key: InodeKey(device: 1, inode: 41, type: .regular))
        table.forget(dir, count: 1)
        #expect(path(table, child) == nil)
    }
}

import Glibc
import FuseKit
import LinuxKit

extension BackingTree: ListingSource {
    func openDirectory(_ node: NodeID) throws(Errno) -> FileDescriptor {
        try open(node, flags: O_RDONLY | O_DIRECTORY)
    }

    func openSubdirectory(of parent: NodeID, named name: [UInt8], ifStill key: InodeKey) -> FileDescriptor? {
        guard let raw = try? withDirectory(parent, { (directory) throws(Errno) -> Int32 in
            try SystemCall.withTerminated(name) { (cName) throws(Errno) -> Int32 in
                try SystemCall.open(in: directory, cName, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            }
        }) else { return nil }
        let descriptor = FileDescriptor(owning: raw)
        guard let identity = try? InodeKey(of: descriptor.rawValue), nodes.isSameObject(identity, as: key) else { return nil }
        return descriptor
    }

    func path(of node: NodeID) -> [UInt8]? {
        nodes.path(of: node)
    }
}

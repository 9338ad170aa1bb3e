import Glibc
import FuseKit
import LinuxKit

extension BackingTree: ListingSource {
    func openDirectory(_ node: NodeID) throws(Errno) -> Int32 {
        try open(node, flags: O_RDONLY | O_DIRECTORY)
    }

    func openSubdirectory(of parent: NodeID, named name: [UInt8], ifStill key: InodeKey) -> Int32? {
        guard let descriptor = try? withDirectory(parent, { (directory) throws(Errno) -> Int32 in
            try SystemCall.withTerminated(name) { (cName) throws(Errno) -> Int32 in
                try SystemCall.open(in: directory, cName, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            }
        }) else { return nil }
        guard let identity = try? InodeKey(of: descriptor), nodes.isSameObject(identity, as: key) else {
            SystemCall.close(descriptor)
            return nil
        }
        return descriptor
    }

    func path(of node: NodeID) -> [UInt8]? {
        nodes.path(of: node)
    }
}

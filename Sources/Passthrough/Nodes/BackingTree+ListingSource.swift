import Glibc
import FuseKit
import LinuxKit

extension BackingTree: ListingSource {
    func openDirectory(_ node: NodeID) throws(Errno) -> FileDescriptor {
        try open(node, flags: O_RDONLY | O_DIRECTORY)
    }

    func openSubdirectory(of parent: NodeID, at path: [UInt8], ifStill key: InodeKey) -> FileDescriptor? {
        guard let raw = try? withDirectory(parent, { (directory) throws(Errno) -> Int32 in
            try SystemCall.withTerminated(path) { (cPath) throws(Errno) -> Int32 in
                try SystemCall.openBeneath(directory, cPath, flags: O_RDONLY | O_DIRECTORY)
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

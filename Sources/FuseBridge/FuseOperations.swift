import Glibc
import CFuse
import FuseKit

/// The libfuse callback table: the session's own callbacks here, the operations in four groups
/// (namespace, attributes, files, directories), as `FileSystem` and Passthrough's `Operations/`
/// group them. Each trampoline decodes its arguments, calls the filesystem and replies — no logic
/// lives in them.
enum FuseOperations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { userdata, connection in
            guard let userdata, let connection else { return }
            let context = Unmanaged<SessionContext>.fromOpaque(userdata).takeUnretainedValue()
            var settings = ConnectionSettings()
            context.fileSystem.initialize(&settings)
            ConnectionConfigurator.apply(settings, to: connection)
            context.kernelOpensDirectories = connection.pointee.capable & UInt32(FUSE_CAP_NO_OPENDIR_SUPPORT) != 0
        }
        ops.destroy = { userdata in
            guard let userdata else { return }
            Unmanaged<SessionContext>.fromOpaque(userdata).takeUnretainedValue().fileSystem.destroy()
        }
        NamespaceOperations.install(into: &ops)
        AttributeOperations.install(into: &ops)
        FileOperations.install(into: &ops)
        DirectoryOperations.install(into: &ops)
        return ops
    }
}

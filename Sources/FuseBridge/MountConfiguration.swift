/// How to mount: everything libfuse and the kernel need besides the filesystem itself.
public struct MountConfiguration: Sendable, Equatable {
    public var mountpoint: String
    /// Shown as the mount's source in /proc/mounts and df.
    public var fsname: String
    /// The mount type becomes fuse.<subtype>.
    public var subtype: String = "dtypefs"
    public var allowOther: Bool
    public var readOnly: Bool = false
    /// Kernel mount flags as mount(8) spells them (nosuid, nodev, noexec, noatime, ...).
    public var mountFlags: [String] = []
    /// `max_threads=`: libfuse's worker threads.
    public var maxThreads: Int = MountConfiguration.defaultMaxThreads
    public static let defaultMaxThreads = 10
    /// libfuse's auto_unmount: fusermount3 stays behind and unmounts when the daemon dies.
    public var autoUnmount = false
    public var debug: Bool = false

    public init(mountpoint: String, fsname: String, allowOther: Bool) {
        self.mountpoint = mountpoint
        self.fsname = fsname
        self.allowOther = allowOther
    }

    /// The option string handed to libfuse's session: permissions are always checked by the kernel
    /// (default_permissions), the rest as configured.
    public var libfuseOptions: String {
        var options = ["fsname=" + Self.escaped(fsname), "subtype=" + subtype, "default_permissions"]
        if allowOther { options.append("allow_other") }
        options.append(readOnly ? "ro" : "rw")
        options.append(contentsOf: mountFlags)
        if autoUnmount { options.append("auto_unmount") }
        return options.joined(separator: ",")
    }

    /// libfuse splits options at commas and unescapes backslashes.
    static func escaped(_ value: String) -> String {
        var result = ""
        for character in value {
            if character == "," || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

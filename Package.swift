// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "dtypefs",
    products: [
        .executable(name: "dtypefs", targets: ["dtypefs"]),
    ],
    targets: [
        // libfuse3 as a system library: the only C dependency that talks FUSE.
        .systemLibrary(
            name: "CFuse",
            path: "CFuse",
            pkgConfig: "fuse3",
            providers: [.apt(["libfuse3-dev"])]
        ),
        // Linux syscalls that glibc 2.36 does not wrap or that are variadic (openat2, renameat2, ...).
        .target(name: "CLinux"),
        // The one Linux layer in Swift, for the filesystem and `check` alike: Errno, FileType, each
        // syscall wrapped once (SystemCall, with SystemFault the seam where tests make calls fail),
        // getdents parsing, threads, the waiting lock, the daemon's log.
        .target(name: "LinuxKit", dependencies: ["CLinux"]),
        // The FUSE contract in plain Swift types: no C, no libfuse.
        .target(name: "FuseKit", dependencies: ["LinuxKit"]),
        // The libfuse session, callback table and reply encoding: the only importer of CFuse.
        .target(name: "FuseBridge", dependencies: ["CFuse", "FuseKit", "LinuxKit"]),
        // The backing-directory filesystem: node table, safe resolution, d_type policy.
        .target(name: "Passthrough", dependencies: ["CLinux", "LinuxKit", "FuseKit"]),
        // `dtypefs check`: compares getdents' d_type with lstat. Shares the Linux layer, never the
        // filesystem: it must judge a source (or a dtypefs mount) without any of dtypefs's code paths.
        .target(name: "DTypeCheck", dependencies: ["LinuxKit"]),
        .executableTarget(
            name: "dtypefs",
            dependencies: ["CLinux", "LinuxKit", "FuseKit", "FuseBridge", "Passthrough", "DTypeCheck"]
        ),
        // Temporary directories for the unit tests.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "LinuxKitTests", dependencies: ["LinuxKit", "TestSupport"]),
        .testTarget(name: "PassthroughTests", dependencies: ["Passthrough", "LinuxKit", "FuseKit", "TestSupport"]),
        .testTarget(name: "FuseBridgeTests", dependencies: ["FuseBridge", "LinuxKit", "FuseKit"]),
        .testTarget(name: "DTypeCheckTests", dependencies: ["DTypeCheck", "LinuxKit"]),
        .testTarget(name: "dtypefsTests", dependencies: ["dtypefs"]),
    ]
)

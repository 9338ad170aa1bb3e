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
        // The FUSE contract in plain Swift types: no C, no libfuse.
        .target(name: "FuseKit"),
        // The libfuse session, callback table and reply encoding: the only importer of CFuse.
        .target(name: "FuseBridge", dependencies: ["CFuse", "FuseKit"]),
        // The backing-directory filesystem: node table, safe resolution, d_type policy.
        .target(name: "Passthrough", dependencies: ["CLinux", "FuseKit"]),
        // `dtypefs check`: compares getdents' d_type with lstat.
        .target(name: "DTypeCheck", dependencies: ["CLinux"]),
        .executableTarget(
            name: "dtypefs",
            dependencies: ["CLinux", "FuseKit", "FuseBridge", "Passthrough", "DTypeCheck"]
        ),
        .testTarget(name: "PassthroughTests", dependencies: ["Passthrough", "FuseKit"]),
        .testTarget(name: "FuseBridgeTests", dependencies: ["FuseBridge", "FuseKit"]),
        .testTarget(name: "DTypeCheckTests", dependencies: ["DTypeCheck"]),
        .testTarget(name: "dtypefsTests", dependencies: ["dtypefs"]),
    ]
)

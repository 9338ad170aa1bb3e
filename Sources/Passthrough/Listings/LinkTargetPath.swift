/// Where a relative link target leads, as a path beneath the backing root worked out from the names
/// alone: what the listing readers look up ahead of a walker that follows links (see
/// `PassthroughFileSystem.lookUpLinkTargets`).
///
/// Lexical: `a/link/..` is taken as `a`, where the kernel would climb from the target of `link`.
/// The lookup refuses symlinks in the path anyway, so the difference only ever names another path
/// beneath the root; whatever the names say, the result never climbs above it.
enum LinkTargetPath {
    /// `target` read from a link in `directory` (a path beneath the root as `NodeTable` gives it,
    /// "." for the root; either may end with a NUL): the NUL-terminated path it leads to. nil for an
    /// absolute target (it leaves the mount), one climbing above the root, one leading to the root
    /// itself, or one longer than PATH_MAX.
    static func beneathRoot(directory: [UInt8], target: [UInt8]) -> [UInt8]? {
        let target = withoutTerminator(target)
        guard let first = target.first, first != slash else { return nil }
        var components = withoutTerminator(directory).split(separator: slash, omittingEmptySubsequences: true)
            .filter { !$0.elementsEqual(currentDirectory) }
        for component in target.split(separator: slash, omittingEmptySubsequences: true) {
            if component.elementsEqual(currentDirectory) { continue }
            if component.elementsEqual(parentDirectory) {
                guard components.popLast() != nil else { return nil }
                continue
            }
            components.append(component)
        }
        guard !components.isEmpty else { return nil }
        var path: [UInt8] = []
        for component in components {
            if !path.isEmpty { path.append(slash) }
            path.append(contentsOf: component)
        }
        guard path.count < pathLimit else { return nil }
        path.append(0)
        return path
    }

    private static let slash = UInt8(ascii: "/")
    private static let currentDirectory: [UInt8] = [UInt8(ascii: ".")]
    private static let parentDirectory: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]
    /// PATH_MAX, terminator included.
    private static let pathLimit = 4096

    private static func withoutTerminator(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        bytes.last == 0 ? bytes.dropLast() : bytes[...]
    }
}

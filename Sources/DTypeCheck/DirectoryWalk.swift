import Glibc
import LinuxKit

/// Walks directories, comparing each entry's getdents64 d_type with its lstat type, and feeds the
/// results to a report format. Never follows a symlink below a command-line PATH.
final class DirectoryWalk {
    private struct DeviceInode: Hashable {
        let device: UInt
        let inode: UInt
    }

    private let recursive: Bool
    private let format: ReportFormat
    private let output: ByteSink
    private let errors: ByteSink
    private let progress: ProgressLine
    private(set) var report = CheckReport()
    /// The directories on the current descent: bind mounts can make a tree contain itself, and a
    /// walk that does not follow symlinks would otherwise loop forever there.
    private var ancestors: Set<DeviceInode> = []

    init(recursive: Bool, format: ReportFormat, output: ByteSink, errors: ByteSink, progress: ProgressLine) {
        self.recursive = recursive
        self.format = format
        self.output = output
        self.errors = errors
        self.progress = progress
    }

    /// Checks the directory `path` (and with `recursive` its tree). Errors are reported and counted.
    func check(path: [UInt8]) {
        let reader: DirectoryReader
        do {
            reader = try DirectoryReader.open(path: path)
        } catch {
            fail(path: path, error, context: "cannot open as a directory")
            return
        }
        walk(reader, path: path)
    }

    private func walk(_ reader: DirectoryReader, path: [UInt8]) {
        let identity: DeviceInode
        do {
            let status = try SystemCall.status(of: reader.fd)
            identity = DeviceInode(device: UInt(status.st_dev), inode: UInt(status.st_ino))
        } catch {
            fail(path: path, error, context: "fstat")
            return
        }
        guard ancestors.insert(identity).inserted else {
            fail(path: path, Errno(ELOOP), context: "directory contains itself (a bind mount loop), skipped")
            return
        }
        defer { ancestors.remove(identity) }
        report.recordDirectory()

        var subdirectories: [[UInt8]] = []
        while true {
            let record: DirectoryReader.Record
            do {
                guard let next = try reader.next() else { break }
                record = next
            } catch {
                fail(path: path, error, context: "cannot read directory")
                break
            }
            progress.update(entries: report.entries, directory: path)
            let reported = record.type
            let actual: FileType
            do {
                actual = FileType(mode: try SystemCall.status(in: reader.fd, record.name).st_mode)
            } catch where error == .noEntry {
                // Listed, then removed before lstat: a live tree changes; this is not a failure.
                report.recordVanished()
                continue
            } catch {
                fail(path: Self.join(path, record.nameBytes), error, context: "lstat")
                continue
            }
            if report.record(reported: reported, actual: actual) {
                let finding = Finding(
                    path: Self.join(path, record.nameBytes),
                    reported: reported,
                    actual: actual,
                    link: actual == .symbolicLink ? Self.linkTarget(parent: reader.fd, name: record.name) : nil
                )
                if output.isTerminal { progress.clear() }
                format.record(finding)
            }
            if recursive && actual == .directory {
                subdirectories.append(record.nameBytes)
            }
        }

        // Descend only after the listing is done, so one descriptor per level is open, not two.
        for name in subdirectories {
            let childPath = Self.join(path, name)
            let child: DirectoryReader
            do {
                child = try reader.openSubdirectory(name)
            } catch where error == .noEntry {
                continue  // removed since it was listed
            } catch {
                fail(path: childPath, error, context: "cannot open directory")
                continue
            }
            walk(child, path: childPath)
        }
    }

    /// Where a symlink points and what is there; only asked for lying entries, so honest trees
    /// pay nothing for it.
    private static func linkTarget(parent: Int32, name: UnsafePointer<CChar>) -> Finding.LinkTarget {
        let target: Result<[UInt8], Errno>
        do { target = .success(try SystemCall.readLink(in: parent, name)) } catch { target = .failure(error) }
        let kind: Result<FileType, Errno>
        do { kind = .success(FileType(mode: try SystemCall.statusFollowing(in: parent, name).st_mode)) } catch { kind = .failure(error) }
        return Finding.LinkTarget(target: target, kind: kind)
    }

    private func fail(path: [UInt8], _ error: Errno, context: String) {
        report.recordError()
        format.recordError(path: path, error, context: context)
        progress.clear()
        output.flush()  // keep stdout and stderr in order when both go to one place
        errors.write(Array("dtypefs check: ".utf8) + ByteEscaping.text(path) + Array(": \(context): \(error)\n".utf8))
        errors.flush()
    }

    /// `directory/name`, without doubling a trailing slash of a command-line PATH.
    static func join(_ directory: [UInt8], _ name: [UInt8]) -> [UInt8] {
        if directory.last == UInt8(ascii: "/") { return directory + name }
        return directory + [UInt8(ascii: "/")] + name
    }
}

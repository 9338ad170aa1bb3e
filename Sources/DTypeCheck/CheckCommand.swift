import Glibc

/// `dtypefs check [--json] [-r|--recursive] PATH...`: does this filesystem's readdir tell the truth
/// about entry types? The diagnostic to run on a share before and after mounting dtypefs over it.
public enum CheckCommand {
    /// Runs the check with the arguments that follow the word `check`; returns the exit status
    /// (0 honest, 1 some entry lies, 2 error). Writes to stdout and stderr.
    public static func run(arguments: [String]) -> Int32 {
        let output = ByteSink(fd: STDOUT_FILENO)
        let errors = ByteSink(fd: STDERR_FILENO)
        let status = run(
            arguments: rawArguments(for: arguments),
            output: output,
            errors: errors,
            showsProgress: errors.isTerminal
        )
        output.flush()
        errors.flush()
        return status
    }

    static func run(arguments: [[UInt8]], output: ByteSink, errors: ByteSink, showsProgress: Bool) -> Int32 {
        let options: CheckOptions
        do {
            options = try CheckOptions.parse(arguments)
        } catch {
            errors.write("dtypefs check: \(error.message)\n")
            errors.flush()
            return 2
        }
        if options.help {
            output.write(CheckOptions.usage)
            output.flush()
            return 0
        }
        let format: ReportFormat = options.json ? JSONReport(sink: output) : TextReport(sink: output)
        let progress = ProgressLine(sink: errors, enabled: showsProgress)
        let walk = DirectoryWalk(recursive: options.recursive, format: format, output: output, errors: errors, progress: progress)
        format.begin(paths: options.paths, recursive: options.recursive)
        for path in options.paths {
            walk.check(path: path)
        }
        progress.clear()
        format.end(walk.report)
        return walk.report.exitStatus
    }

    /// The arguments as the bytes the kernel passed. Swift's `CommandLine.arguments` repairs
    /// invalid UTF-8 (a lossy U+FFFD), which would make a non-UTF-8 PATH impossible to open; so
    /// when `arguments` is the tail of this process's argv, the raw argv bytes are used instead.
    static func rawArguments(for arguments: [String]) -> [[UInt8]] {
        let all = CommandLine.arguments
        let offset = all.count - arguments.count
        guard offset >= 0, Array(all[offset...]) == arguments else {
            return arguments.map { Array($0.utf8) }
        }
        return (0..<arguments.count).map { index in
            guard let pointer = CommandLine.unsafeArgv[offset + index] else { return Array(arguments[index].utf8) }
            let length = strlen(pointer)
            return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                Array(UnsafeBufferPointer(start: $0, count: length))
            }
        }
    }
}

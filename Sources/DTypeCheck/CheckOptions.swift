/// The parsed command line of `dtypefs check`.
struct CheckOptions: Equatable {
    /// A command line that cannot be run; `message` names the problem.
    struct UsageError: Error, Equatable {
        let message: String
    }

    var json = false
    var recursive = false
    var help = false
    /// The directories to check, as raw bytes: a name on Linux need not be UTF-8.
    var paths: [[UInt8]] = []

    static let usage = """
        usage: dtypefs check [--json] [-r|--recursive] PATH...

        Reads each directory PATH with getdents64 and lstats every entry. An entry lies when its
        d_type is a claim (not DT_UNKNOWN) that lstat contradicts, e.g. a symlink reported as DT_REG
        by CIFS with mfsymlinks: tree walkers that trust d_type (find, os.walk, Go WalkDir, ripgrep)
        get those entries wrong. Lying entries are listed, then a summary; DT_UNKNOWN is only counted.

          -r, --recursive  check the whole tree below each PATH; symlinks are never followed
                           (a PATH given as a symlink to a directory is, like find -H)
              --json       print one JSON object (entries that lie, errors, summary) instead of text
          -h, --help       print this help and exit

        Exit status: 0 no entry lies; 1 some entry lies; 2 error: bad usage, a PATH that is missing
        or not a directory, or anything unreadable during the walk (reported on stderr, the walk goes
        on, but the check is incomplete, so 2 wins over 1).

        """

    /// Parses the arguments that follow the word `check`.
    static func parse(_ arguments: [[UInt8]]) throws(UsageError) -> CheckOptions {
        var options = CheckOptions()
        var optionsEnded = false
        for argument in arguments {
            let text = String(decoding: argument, as: UTF8.self)
            if optionsEnded || argument.first != UInt8(ascii: "-") || argument == [UInt8(ascii: "-")] {
                options.paths.append(argument)
                continue
            }
            switch text {
            case "--": optionsEnded = true
            case "--json": options.json = true
            case "-r", "--recursive": options.recursive = true
            case "-h", "--help": options.help = true
            default:
                throw UsageError(message: "unknown option '\(text)' (see dtypefs check --help)")
            }
        }
        if !options.help && options.paths.isEmpty {
            throw UsageError(message: "no PATH given: name at least one directory to check")
        }
        return options
    }
}

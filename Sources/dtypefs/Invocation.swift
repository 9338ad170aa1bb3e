/// What the command line asks for.
enum Invocation: Equatable {
    case mount(MountRequest)
    case check(arguments: [String])
    case help
    case version
}

/// `dtypefs SOURCE MOUNTPOINT [-f] [-d] [-o OPTIONS]...` before any file is looked at.
struct MountRequest: Equatable {
    var source: String
    var mountpoint: String
    var foreground = false
    var debug = false
    var options = MountOptions()
}

extension Invocation {
    /// Parses the arguments after the program name, in the FUSE style that mount.fuse3 uses:
    /// positional SOURCE and MOUNTPOINT, flags, and `-o a,b=c` (also `-oa,b=c`) anywhere.
    static func parse(_ arguments: [String]) throws(UsageError) -> Invocation {
        if arguments.first == "check" { return .check(arguments: Array(arguments.dropFirst())) }
        var positional: [String] = []
        var optionText: [String] = []
        var foreground = false
        var debug = false
        var index = 0
        var onlyPositional = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositional || !argument.hasPrefix("-") || argument == "-" {
                positional.append(argument)
                continue
            }
            switch argument {
            case "--": onlyPositional = true
            case "-h", "--help": return .help
            case "-V", "--version": return .version
            case "-f", "--foreground": foreground = true
            case "-d", "--debug": debug = true
            case "-o":
                guard index < arguments.count else { throw UsageError("option -o needs a value, e.g. -o dtype=verify") }
                optionText.append(arguments[index])
                index += 1
            default:
                if argument.hasPrefix("-o") {
                    optionText.append(String(argument.dropFirst(2)))
                } else {
                    throw UsageError("unknown flag '\(argument)' (see dtypefs --help)")
                }
            }
        }
        switch positional.count {
        case 0: throw UsageError("missing SOURCE and MOUNTPOINT (see dtypefs --help)")
        case 1: throw UsageError("missing MOUNTPOINT after SOURCE '\(positional[0])'")
        case 2: break
        default: throw UsageError("too many arguments: '\(positional[2])' (expected SOURCE MOUNTPOINT)")
        }
        var request = MountRequest(source: positional[0], mountpoint: positional[1])
        // -d shows every request on stderr, which only makes sense in the foreground.
        request.foreground = foreground || debug
        request.debug = debug
        for text in optionText { try request.options.apply(text) }
        try request.options.validate()
        return .mount(request)
    }
}

import Glibc
import DTypeCheck
import FuseBridge

let arguments = Array(CommandLine.arguments.dropFirst())
do throws(UsageError) {
    switch try Invocation.parse(arguments) {
    case .help:
        print(HelpText.usage)
        exit(0)
    case .version:
        print("\(HelpText.version) (libfuse \(FuseSession.libraryVersion); needs Linux 5.6 or later for openat2)")
        exit(0)
    case let .check(checkArguments):
        exit(CheckCommand.run(arguments: checkArguments))
    case let .mount(request):
        exit(MountCommand.run(request))
    }
} catch {
    MountCommand.printError(error.message)
    exit(MountCommand.ExitStatus.usage)
}

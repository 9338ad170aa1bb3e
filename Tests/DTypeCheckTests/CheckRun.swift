@testable import DTypeCheck

/// The outcome of running `dtypefs check` in-process with captured stdout and stderr.
struct CheckRun {
    let status: Int32
    let output: String
    let errors: String
    let outputBytes: [UInt8]

    init(_ arguments: [[UInt8]]) {
        let output = ByteSink.capturing()
        let errors = ByteSink.capturing()
        status = CheckCommand.run(arguments: arguments, output: output, errors: errors, showsProgress: false)
        self.output = output.capturedString
        self.errors = errors.capturedString
        self.outputBytes = output.captured
    }

    init(_ arguments: String...) {
        self.init(arguments.map { Array($0.utf8) })
    }
}

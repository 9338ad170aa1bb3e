import Testing
@testable import DTypeCheck

@Suite struct CheckOptionsTests {
    private func parse(_ arguments: String...) throws(CheckOptions.UsageError) -> CheckOptions {
        try CheckOptions.parse(arguments.map { Array($0.utf8) })
    }

    @Test func flagsAndPathsInAnyOrder() throws {
        let options = try parse("a", "--json", "-r", "b")
        #expect(options.json && options.recursive && !options.help)
        #expect(options.paths == [Array("a".utf8), Array("b".utf8)])
        #expect(try parse("--recursive", "x").recursive)
    }

    @Test func doubleDashMakesTheRestPaths() throws {
        let options = try parse("--", "-r", "--json")
        #expect(!options.recursive && !options.json)
        #expect(options.paths == [Array("-r".utf8), Array("--json".utf8)])
    }

    @Test func helpNeedsNoPath() throws {
        #expect(try parse("-h").help)
        #expect(try parse("--help").help)
    }

    @Test func unknownOptionAndMissingPathAreErrorsNamingTheProblem() {
        #expect(throws: CheckOptions.UsageError.self) { try parse("-x", "dir") }
        do {
            _ = try parse("--jsn", "dir")
            Issue.record("--jsn was accepted")
        } catch {
            #expect(error.message.contains("--jsn"))
        }
        do {
            _ = try parse("--json")
            Issue.record("no PATH was accepted")
        } catch {
            #expect(error.message.contains("PATH"))
        }
    }
}

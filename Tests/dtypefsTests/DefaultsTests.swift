import Foundation
import FuseBridge
import Passthrough
import Testing
@testable import dtypefs

/// Defaults are defined once (PassthroughConfiguration, MountConfiguration); --help prints them
/// from there and the man page is written by hand: both must say the same.
@Suite struct DefaultsTests {
    static let defaults = PassthroughConfiguration()

    /// Option → the default it must be documented with.
    static let documented: [(option: String, value: String)] = [
        ("attr_timeout", HelpText.optionValue(defaults.attrTimeout)),
        ("entry_timeout", HelpText.optionValue(defaults.entryTimeout)),
        ("negative_timeout", HelpText.optionValue(defaults.negativeTimeout)),
        ("max_threads", String(MountConfiguration.defaultMaxThreads)),
        ("verify_threads", String(defaults.verifyThreads)),
        ("readahead_listings", String(defaults.readaheadListings)),
        ("xattr", defaults.xattr ? "on" : "off"),
    ]

    static func manPage() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/man/dtypefs.8").standardized
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The paragraph of the man page that documents `option` (from its `.TP` tag to the next).
    static func manParagraph(_ option: String, in page: String) -> String? {
        let paragraphs = page.components(separatedBy: "\n.TP\n")
        return paragraphs.first { $0.hasPrefix(".BI \(option)=") || $0.hasPrefix(".BR \(option)=") }
    }

    static func firstDefault(in text: String) -> String? {
        guard let range = text.range(of: #"\(default\s+(\.BR\s+)?[0-9A-Za-z.]+"#, options: .regularExpression) else { return nil }
        return text[range].split(whereSeparator: { $0 == " " || $0 == "\n" }).last.map(String.init)
    }

    @Test func manPageStatesEachDefault() throws {
        let page = try Self.manPage()
        for (option, value) in Self.documented {
            let paragraph = try #require(Self.manParagraph(option, in: page), "no paragraph for \(option) in dtypefs.8")
            #expect(Self.firstDefault(in: paragraph) == value, "dtypefs.8 on \(option)")
        }
    }

    @Test func helpStatesEachDefault() {
        let lines = HelpText.usage.components(separatedBy: "\n")
        for (option, value) in Self.documented {
            let start = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(option + "=") }
            guard let start else {
                Issue.record("--help does not list \(option)")
                continue
            }
            let text = lines[start...].prefix(4).joined(separator: " ")
            #expect(Self.firstDefault(in: text) == value, "--help on \(option)")
        }
    }

    @Test func theChoicesDocumentedAsDefaultsAreTheDefaults() throws {
        let page = try Self.manPage()
        #expect(Self.defaults.dtype == .verify && page.contains(".B verify\n(default)"))
        #expect(Self.defaults.readdirplus == .auto && page.contains(".B auto\n(the default)"))
    }
}

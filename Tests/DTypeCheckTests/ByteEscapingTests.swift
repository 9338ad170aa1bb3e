import Testing
@testable import DTypeCheck

@Suite struct ByteEscapingTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: ByteEscaping.text(bytes), as: UTF8.self) }
    private func json(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        ByteEscaping.appendJSONString(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func textKeepsPrintableUTF8AndEscapesTheRest() {
        #expect(text(Array("plain name.txt".utf8)) == "plain name.txt")
        #expect(text(Array("café ☃ 𝄞".utf8)) == "café ☃ 𝄞")
        #expect(text([0x61, 0xFF, 0x62]) == #"a\xffb"#)
        #expect(text(Array("a\\b".utf8)) == #"a\\b"#)
        #expect(text(Array("line\nbreak\t\u{1B}[31m".utf8)) == #"line\x0abreak\x09\x1b[31m"#)
        // U+009B (CSI) is valid UTF-8 but a terminal would execute it.
        #expect(text([0xC2, 0x9B]) == #"\xc2\x9b"#)
        #expect(text([0x7F]) == #"\x7f"#)
    }

    @Test func textRejectsMalformedUTF8() {
        #expect(text([0xC0, 0x80]) == #"\xc0\x80"#)               // overlong NUL
        #expect(text([0xED, 0xA0, 0x80]) == #"\xed\xa0\x80"#)     // encoded surrogate
        #expect(text([0xF4, 0x90, 0x80, 0x80]) == #"\xf4\x90\x80\x80"#)  // above U+10FFFF
        #expect(text([0xE2, 0x98]) == #"\xe2\x98"#)               // truncated
        #expect(text([0x80]) == #"\x80"#)                         // lone continuation
    }

    @Test func jsonEscapesQuotesControlsAndInvalidBytesAsSurrogates() {
        #expect(json(Array("a\"b\\c".utf8)) == #""a\"b\\c""#)
        #expect(json(Array("n\n\u{01}".utf8)) == #""n\n\u0001""#)
        #expect(json(Array("é☃".utf8)) == "\"é☃\"")
        #expect(json([0x66, 0xFF, 0xFE]) == #""f\udcff\udcfe""#)
        #expect(json([0xED, 0xA0, 0x80]) == #""\udced\udca0\udc80""#)
    }
}

/// Renders file names, which are arbitrary bytes on Linux, so that output stays byte-exact.
///
/// Text: valid, printable UTF-8 passes through; `\` becomes `\\`; every other byte (controls,
/// C1 controls that terminals would execute, invalid UTF-8) becomes `\xNN`. Reversible by reading
/// `\\` as `\` and `\xNN` as the byte.
///
/// JSON: standard escapes for `"`, `\` and controls; valid UTF-8 passes through; each byte of
/// invalid UTF-8 becomes the lone surrogate `\udcNN` — Python's "surrogateescape" convention, so
/// `os.fsencode(json.loads(text)["path"])` returns the original bytes. Valid UTF-8 never encodes a
/// surrogate, so the two cannot be confused.
enum ByteEscaping {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The name in text form (see the type's comment).
    static func text(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                index += 1
            } else if byte >= 0x20 && byte < 0x7F {
                out.append(byte)
                index += 1
            } else if let length = utf8SequenceLength(bytes, at: index), length > 1,
                      !isC1Control(bytes, at: index) {
                out += bytes[index..<index + length]
                index += length
            } else {
                out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
                index += 1
            }
        }
        return out
    }

    /// Appends the name as a quoted JSON string (see the type's comment).
    static func appendJSONString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8); index += 1
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8); index += 1
            case 0x0A: out += Array(#"\n"#.utf8); index += 1
            case 0x09: out += Array(#"\t"#.utf8); index += 1
            case 0x0D: out += Array(#"\r"#.utf8); index += 1
            case 0x00..<0x20:
                out += Array(#"\u00"#.utf8) + [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
                index += 1
            case 0x20..<0x80:
                out.append(byte)
                index += 1
            default:
                if let length = utf8SequenceLength(bytes, at: index) {
                    out += bytes[index..<index + length]
                    index += length
                } else {
                    out += Array(#"\udc"#.utf8) + [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
                    index += 1
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends a Swift string (always valid Unicode) as a quoted JSON string.
    static func appendJSONString(_ string: String, to out: inout [UInt8]) {
        appendJSONString(Array(string.utf8), to: &out)
    }

    /// The length of the well-formed UTF-8 sequence starting at `index` (Unicode table 3-7:
    /// no overlongs, no surrogates, nothing above U+10FFFF), or nil if the bytes there are not one.
    static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        guard (low...high).contains(bytes[index + 1]) else { return nil }
        for offset in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[index + offset]) {
            return nil
        }
        return length
    }

    /// U+0080...U+009F: valid UTF-8, but terminals act on some of them (U+009B is CSI).
    private static func isC1Control(_ bytes: [UInt8], at index: Int) -> Bool {
        bytes[index] == 0xC2 && index + 1 < bytes.count && bytes[index + 1] < 0xA0
    }
}

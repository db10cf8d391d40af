import Testing

@testable import Webhooks

/// The byte-level `Content-Type` check accepts and refuses what the
/// String version it replaced did (split on `;`, trim, lower-case).
@Suite struct MediaTypeTests {
    @Test(arguments: [
        "application/json", "Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8",
        "application/json ; charset=\"utf-8\"", "APPLICATION/JSON;\tCharset=Utf-8", "application/json; charset=utf-8; charset=utf-8",
    ])
    func accepted(_ value: String) {
        #expect(Self.isJSON(value))
    }

    @Test(arguments: [
        "", "application/jsonx", "application/jso", "text/plain", "application/json; charset=latin1", "application/json;",
        "application/json; charset=utf-8;", "; application/json", "application/json, text/plain", "application/json; charset=utf8",
        "applicatİon/json", "application/json; charset=\"utf-8",
    ])
    func refused(_ value: String) {
        #expect(!Self.isJSON(value))
    }

    private static func isJSON(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { MediaType.isJSON($0) }
    }
}

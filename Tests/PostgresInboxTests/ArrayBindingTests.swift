import Foundation
import NIOCore
import PostgresNIO
@testable import PostgresInbox
import Testing

/// The write path's own array encoding sends exactly the bytes, and the
/// parameter type, that PostgresNIO's `Array.encode` sends for the same
/// Swift array (what the write path bound before), so PostgreSQL reads
/// the same values.
struct ArrayBindingTests {
    @Test func stringsAsPostgresNIOWritesThem() {
        expectSameEncoding(of: [String]())
        expectSameEncoding(of: [""])
        expectSameEncoding(of: ["pay_12345", "", "order 7 — €17,50", "日本語", "emoji 🧾", String(repeating: "x", count: 5000)])
    }

    @Test func integersBooleansAndDatesAsPostgresNIOWritesThem() {
        expectSameEncoding(of: [Int64]())
        expectSameEncoding(of: [Int64.min, -1, 0, 1, 8_820_250_900_009, Int64.max])
        expectSameEncoding(of: [Int.min, -7, 0, 3, Int.max])
        expectSameEncoding(of: [true, false, true])
        expectSameEncoding(of: [Bool]())
        expectSameEncoding(of: [
            Date(timeIntervalSince1970: 0),
            Date(timeIntervalSince1970: 946_684_800),
            Date(timeIntervalSince1970: 946_684_799.999_999_5),
            Date(timeIntervalSince1970: 1_764_547_200.123_456_7),
            Date(timeIntervalSince1970: 4_102_444_800.5),
        ])
    }

    /// Bodies bound from their bytes, as PostgresNIO binds the `ByteBuffer`s the write path made of them before.
    @Test func bodiesAsPostgresNIOWritesByteBuffers() {
        let bodies: [[UInt8]] = [[], Array("{\"amount\":\"17.50\"}".utf8), [0, 255, 10, 13], Array(repeating: 7, count: 70_000)]
        #expect(encoded(ArrayBinding(bodies)) == encoded(bodies.map { ByteBuffer(bytes: $0) }))
        #expect(ArrayBinding<[UInt8]>.psqlType == [ByteBuffer].psqlType)
        #expect(encoded(ArrayBinding([[UInt8]]())) == encoded([ByteBuffer]()))
    }

    /// Appended to bindings that already hold a value, the array lands after it, its length in front.
    @Test func appendsAfterWhatTheBindingsHold() {
        var ours = PostgresBindings()
        ours.append("first")
        ours.append(ArrayBinding(["a", "bc"]))
        ours.append(ArrayBinding([Int64(5)]))
        var theirs = PostgresBindings()
        theirs.append("first")
        theirs.append(["a", "bc"])
        theirs.append([Int64(5)])
        #expect(ours == theirs)
    }

    private func expectSameEncoding<Element: BinaryArrayElement & PostgresArrayEncodable & PostgresNonThrowingEncodable>(
        of values: [Element], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(encoded(ArrayBinding(values)) == encoded(values), sourceLocation: sourceLocation)
        #expect(ArrayBinding<Element>.psqlType == [Element].psqlType, sourceLocation: sourceLocation)
        #expect(ArrayBinding<Element>.psqlFormat == [Element].psqlFormat, sourceLocation: sourceLocation)
    }

    private func encoded(_ value: some PostgresNonThrowingEncodable) -> [UInt8] {
        var buffer = ByteBuffer()
        value.encode(into: &buffer, context: .default)
        return Array(buffer.readableBytesView)
    }
}

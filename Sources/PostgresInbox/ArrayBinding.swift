import Foundation
import NIOCore
import PostgresNIO

/// An array parameter of the write path, written in PostgreSQL's binary
/// array format in one pass over one reserved stretch of the bindings'
/// buffer.
///
/// PostgresNIO's `Array.encode` writes each element with three buffer
/// operations (a placeholder for its length, its bytes, then its length),
/// each with its own capacity check and run-time exclusivity check: ~750
/// instructions a string, and a PostgreSQL callback binds 28 elements
/// across its record and its attempt's ending (callgrind, BENCHMARKS.md
/// session 23). The bytes and the parameter's type are those PostgresNIO
/// would send for the same Swift array (`ArrayBindingTests` compares them).
struct ArrayBinding<Element: BinaryArrayElement>: PostgresNonThrowingEncodable {
    let elements: [Element]

    init(_ elements: [Element]) {
        self.elements = elements
    }

    static var psqlType: PostgresDataType { Element.arrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        // Dimensions (0 for an empty array), no nulls, the element type;
        // then the one dimension's length and lower bound; then each
        // element's length and bytes.
        var size = 12
        if !elements.isEmpty {
            size += 8
            for element in elements { size += 4 + element.binaryCount }
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
            var writer = BigEndianWriter(bytes: bytes)
            writer.put(UInt32(elements.isEmpty ? 0 : 1))
            writer.put(UInt32(0))
            writer.put(Element.elementType.rawValue)
            guard !elements.isEmpty else { return writer.offset }
            writer.put(UInt32(truncatingIfNeeded: elements.count))
            writer.put(UInt32(1))
            for element in elements {
                let count = element.binaryCount
                writer.put(UInt32(truncatingIfNeeded: count))
                element.writeBinary(to: UnsafeMutableRawBufferPointer(rebasing: bytes[writer.offset..<writer.offset + count]))
                writer.offset += count
            }
            return writer.offset
        }
    }
}

/// Writes big-endian integers one after another into `bytes`.
private struct BigEndianWriter {
    let bytes: UnsafeMutableRawBufferPointer
    var offset = 0

    mutating func put<Value: FixedWidthInteger>(_ value: Value) {
        bytes.storeBytes(of: value.bigEndian, toByteOffset: offset, as: Value.self)
        offset += MemoryLayout<Value>.size
    }
}

/// A Swift value the write path binds in arrays, with the binary form
/// PostgreSQL reads for its type (that of PostgresNIO's own encoding).
protocol BinaryArrayElement {
    static var elementType: PostgresDataType { get }
    static var arrayType: PostgresDataType { get }
    /// The bytes `writeBinary` writes.
    var binaryCount: Int { get }
    /// Fills `bytes`, `binaryCount` long.
    func writeBinary(to bytes: UnsafeMutableRawBufferPointer)
}

extension String: BinaryArrayElement {
    static var elementType: PostgresDataType { .text }
    static var arrayType: PostgresDataType { .textArray }
    var binaryCount: Int { utf8.count }

    func writeBinary(to bytes: UnsafeMutableRawBufferPointer) {
        var text = self  // `withUTF8` may make a copy contiguous first, so it is mutating.
        text.withUTF8 { bytes.copyMemory(from: UnsafeRawBufferPointer($0)) }
    }
}

/// A `bytea`, bound from the bytes themselves (not copied into a
/// `ByteBuffer` of its own first).
extension Array: BinaryArrayElement where Element == UInt8 {
    static var elementType: PostgresDataType { .bytea }
    static var arrayType: PostgresDataType { .byteaArray }
    var binaryCount: Int { count }

    func writeBinary(to bytes: UnsafeMutableRawBufferPointer) {
        withUnsafeBytes { bytes.copyMemory(from: $0) }
    }
}

extension Int64: BinaryArrayElement {
    static var elementType: PostgresDataType { .int8 }
    static var arrayType: PostgresDataType { .int8Array }
    var binaryCount: Int { 8 }

    func writeBinary(to bytes: UnsafeMutableRawBufferPointer) {
        bytes.storeBytes(of: bigEndian, as: Int64.self)
    }
}

/// As PostgresNIO binds an `Int` on a 64-bit machine: an `int8`.
extension Int: BinaryArrayElement {
    static var elementType: PostgresDataType { .int8 }
    static var arrayType: PostgresDataType { .int8Array }
    var binaryCount: Int { 8 }

    func writeBinary(to bytes: UnsafeMutableRawBufferPointer) {
        Int64(self).writeBinary(to: bytes)
    }
}

extension Bool: BinaryArrayElement {
    static var elementType: PostgresDataType { .bool }
    static var arrayType: PostgresDataType { .boolArray }
    var binaryCount: Int { 1 }

    func writeBinary(to bytes: UnsafeMutableRawBufferPointer) {
        bytes.storeBytes(of: self ? 1 : 0, as: UInt8.self)
    }
}

/// Microseconds since 2000-01-01 UTC, rounded toward zero as PostgresNIO
/// rounds them.
extension Date: BinaryArrayElement {
    static var elementType: PostgresDataType { .timestamptz }
    static var arrayType: PostgresDataType { .timestamptzArray }
    var binaryCount: Int { 8 }

    private static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)

    func writeBinary(to bytes: UnsafeMutableRawBufferPointer) {
        let microseconds = Int64(timeIntervalSince(Self.postgresEpoch) * 1_000_000)
        bytes.storeBytes(of: microseconds.bigEndian, as: Int64.self)
    }
}

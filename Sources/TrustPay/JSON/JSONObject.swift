import Foundation  // memcmp

/// A JSON object that keeps its members in the order they were received and
/// never holds two members with the same key.
///
/// Keys are compared by their UTF-8 bytes. A body with a duplicate key is
/// rejected by the parser: which of the two values was signed is ambiguous.
///
/// ```swift
/// var fields: JSONObject = ["order_no": "ORD-1", "order_amount": 106]
/// fields["status"] = 5          // appended
/// fields["order_no"] = "ORD-2"  // replaced in place
/// fields["status"] = nil        // removed
/// ```
public struct JSONObject: Sendable, Equatable {
    /// One `"key": value` pair.
    public struct Member: Sendable, Equatable {
        public let key: String
        public var value: JSONValue
        /// The key's length and first bytes, compared before its bytes.
        let fingerprint: KeyFingerprint

        public init(key: String, value: JSONValue) {
            self.init(key: key, value: value, fingerprint: KeyFingerprint(key))
        }

        init(key: String, value: JSONValue, fingerprint: KeyFingerprint) {
            self.key = key
            self.value = value
            self.fingerprint = fingerprint
        }

        public static func == (lhs: Member, rhs: Member) -> Bool {
            lhs.key.utf8.elementsEqual(rhs.key.utf8) && lhs.value == rhs.value
        }
    }

    /// Thrown when building an object from pairs that repeat a key.
    public struct DuplicateKeyError: Error, Sendable, Equatable, CustomStringConvertible {
        public let key: String
        public var description: String { "the key \"\(key)\" appears more than once" }
    }

    /// The members, in order.
    public private(set) var members: [Member] = []
    /// Member positions by key, built only once the object outgrows
    /// ``linearLimit``: a callback's dozen fields are found faster by
    /// comparing lengths and bytes than by hashing every key.
    private var positions: [ExactKey: Int]?

    /// Up to this many members, keys are looked up by scanning.
    static let linearLimit = 16

    /// An empty object.
    public init() {}

    /// An object with these members, in this order.
    public init(_ pairs: some Sequence<(String, JSONValue)>) throws(DuplicateKeyError) {
        for (key, value) in pairs where !appendIfAbsent(key, value) {
            throw DuplicateKeyError(key: key)
        }
    }

    init(literalPairs: [(String, JSONValue)]) {
        for (key, value) in literalPairs {
            precondition(appendIfAbsent(key, value), "duplicate key \"\(key)\" in a JSONObject literal")
        }
    }

    /// The position of the member with `key`, if any.
    func index(forKey key: String) -> Int? {
        if let positions { return positions[ExactKey(key)] }
        return index(forKey: key, fingerprint: KeyFingerprint(key))
    }

    /// ``index(forKey:)`` with the key's fingerprint already taken. Members
    /// are told apart by their fingerprints, one integer compared each, and
    /// the bytes are compared only for a key the fingerprint does not hold
    /// whole (callgrind: a callback's twenty look-ups by length and bytes
    /// cost ~9,000 instructions, BENCHMARKS.md session 12).
    func index(forKey key: String, fingerprint: KeyFingerprint) -> Int? {
        if let positions { return positions[ExactKey(key)] }
        // Over the buffer: each member read in place, not copied (a key and
        // a value retained and released per member passed).
        return members.withUnsafeBufferPointer { members in
            for index in members.indices where members[index].fingerprint == fingerprint {
                if fingerprint.holdsWholeKey || sameBytes(members[index].key, key) { return index }
            }
            return nil
        }
    }

    /// Reserves room for `count` members.
    mutating func reserveCapacity(_ count: Int) {
        members.reserveCapacity(count)
    }

    /// Appends a member unless the key is already present; returns whether it did.
    @discardableResult
    mutating func appendIfAbsent(_ key: String, _ value: JSONValue) -> Bool {
        appendIfAbsent(key, value, fingerprint: KeyFingerprint(key))
    }

    /// ``appendIfAbsent(_:_:)`` with the key's fingerprint already taken
    /// (the parser takes it from the bytes it read).
    @discardableResult
    mutating func appendIfAbsent(_ key: String, _ value: JSONValue, fingerprint: KeyFingerprint) -> Bool {
        if positions != nil {
            let exact = ExactKey(key)
            guard positions![exact] == nil else { return false }
            positions![exact] = members.count
        } else {
            guard index(forKey: key, fingerprint: fingerprint) == nil else { return false }
            if members.count == Self.linearLimit {
                var index = [ExactKey: Int](minimumCapacity: Self.linearLimit * 2)
                for (position, member) in members.enumerated() { index[ExactKey(member.key)] = position }
                index[ExactKey(key)] = members.count
                positions = index
            }
        }
        members.append(Member(key: key, value: value, fingerprint: fingerprint))
        return true
    }

    /// Appends a member whose key the caller knows is not present yet,
    /// without looking it up (checked in debug builds).
    mutating func append(absentKey key: String, fingerprint: KeyFingerprint, _ value: JSONValue) {
        guard positions == nil, members.count < Self.linearLimit else {
            let appended = appendIfAbsent(key, value, fingerprint: fingerprint)
            assert(appended, "append(absentKey:) of a present key \"\(key)\"")
            return
        }
        assert(index(forKey: key) == nil, "append(absentKey:) of a present key \"\(key)\"")
        members.append(Member(key: key, value: value, fingerprint: fingerprint))
    }

    /// The value for `key`. Setting a new key appends it; setting an existing
    /// key replaces its value in place; setting `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get { index(forKey: key).map { members[$0].value } }
        set {
            if let newValue {
                if let position = index(forKey: key) {
                    members[position].value = newValue
                } else {
                    appendIfAbsent(key, newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Removes the member with `key`, keeping the others in order.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = index(forKey: key) else { return nil }
        let removed = members.remove(at: position)
        if positions != nil {
            positions!.removeValue(forKey: ExactKey(key))
            for index in position..<members.count {
                positions![ExactKey(members[index].key)] = index
            }
        }
        return removed.value
    }

    /// The keys, in order.
    public var keys: [String] { members.map(\.key) }

    /// Runs `body` over the members in place: `for member in object`
    /// copies each member, retaining and releasing its key and value.
    func withMembers<R>(_ body: (UnsafeBufferPointer<Member>) throws(Never) -> R) -> R {
        members.withUnsafeBufferPointer { body($0) }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members == rhs.members
    }
}

extension JSONObject: RandomAccessCollection {
    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> Member { members[position] }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Duplicate keys in a literal are a programmer error and trap, as with `Dictionary`.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(literalPairs: elements)
    }
}

extension JSONObject: CustomStringConvertible {
    /// The compact JSON text of the object.
    public var description: String { compactJSON }
}

/// A dictionary key that compares strings by their UTF-8 bytes rather than by
/// Unicode canonical equivalence, so lookups agree with what gets signed.
private struct ExactKey: Hashable {
    let text: String
    init(_ text: String) { self.text = text }

    static func == (lhs: ExactKey, rhs: ExactKey) -> Bool {
        sameBytes(lhs.text, rhs.text)
    }

    func hash(into hasher: inout Hasher) {
        var contiguous = text
        contiguous.makeContiguousUTF8()  // a no-op for native strings
        _ = contiguous.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        hasher.combine(0xFF as UInt8)  // never a UTF-8 byte: ends the key
    }
}

/// Whether two strings have the same UTF-8 bytes (not merely canonically
/// equivalent characters), compared over contiguous storage: generic UTF8View
/// iteration was a large share of a callback's verification.
func sameBytes(_ a: String, _ b: String) -> Bool {
    let count = a.utf8.count
    guard count == b.utf8.count else { return false }
    guard count > 0 else { return true }
    let equal = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in memcmp(x.baseAddress!, y.baseAddress!, count) == 0 }
    }
    return (equal ?? nil) ?? a.utf8.elementsEqual(b.utf8)
}

/// A key's UTF-8 length (up to 255) in the top byte and its first seven
/// bytes below, zero-padded: equal keys have equal fingerprints, and a key
/// of up to seven bytes is told apart by its fingerprint alone (its bytes
/// and length are all there; padding cannot be mistaken for a byte of a
/// key of the same length).
struct KeyFingerprint: Equatable, Sendable {
    let bits: UInt64

    init(_ key: String) {
        var key = key
        bits = key.withUTF8 { Self.bits(of: $0) }  // in place for native strings
    }

    /// A fingerprint written out (see ``TrustPaySignature/signFingerprint``).
    init(bits: UInt64) {
        self.bits = bits
    }

    /// The fingerprint of the key whose UTF-8 bytes are `bytes`.
    init(bytes: UnsafeBufferPointer<UInt8>) {
        bits = Self.bits(of: bytes)
    }

    /// Whether equal fingerprints mean equal keys.
    var holdsWholeKey: Bool { bits >> 56 <= 7 }

    private static func bits(of bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var bits = UInt64(min(bytes.count, 255)) << 56
        for index in 0..<min(7, bytes.count) { bits |= UInt64(bytes[index]) << (48 - 8 * UInt64(index)) }
        return bits
    }
}

/// Request header fields: one copy of the raw head bytes plus the parser's
/// ranges, so a request costs two allocations however many headers it has.
/// Lookups are case-insensitive and decode only the value asked for.
public struct HTTPHeaders: Sendable, Sequence {
    let head: [UInt8]
    let fields: [HeaderField]

    init(head: [UInt8], fields: [HeaderField]) {
        self.head = head
        self.fields = fields
    }

    /// Headers built by hand (tests, clients).
    public init(_ pairs: [(String, String)] = []) {
        var head: [UInt8] = []
        var fields: [HeaderField] = []
        for (name, value) in pairs {
            let nameStart = head.count
            head.append(contentsOf: name.utf8)
            let valueStart = head.count
            head.append(contentsOf: value.utf8)
            fields.append(HeaderField(name: ByteRange(nameStart, valueStart), value: ByteRange(valueStart, head.count)))
        }
        self.head = head
        self.fields = fields
    }

    public var count: Int { fields.count }

    /// The first value of `name` (case-insensitive), if present.
    public subscript(name: String) -> String? {
        first(name).map { string($0.value) }
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { matches($0.name, name) }.map { string($0.value) }
    }

    public func contains(_ name: String) -> Bool { first(name) != nil }

    public func makeIterator() -> some IteratorProtocol<(name: String, value: String)> {
        fields.lazy.map { (name: string($0.name), value: string($0.value)) }.makeIterator()
    }

    private func first(_ name: String) -> HeaderField? {
        fields.first { matches($0.name, name) }
    }

    private func matches(_ range: ByteRange, _ name: String) -> Bool {
        guard range.count == name.utf8.count else { return false }
        var i = range.start
        for byte in name.utf8 {
            if head[i].asciiLowercased != byte.asciiLowercased { return false }
            i += 1
        }
        return true
    }

    private func string(_ range: ByteRange) -> String {
        String(decoding: head[range.start..<range.end], as: UTF8.self)
    }
}

import Foundation

/// A verified callback the pipeline asks the inbox to record.
///
/// ``statusRank`` is how far along its order the status is (see
/// `OrderProgress` in `TrustPay`); the store compares ranks, never status codes, so it
/// needs no knowledge of TrustPay's statuses to flag stale events.
public struct NewInboxEvent: Sendable, Equatable {
    public var id: String
    public var key: IdempotencyKey
    public var contentHash: String
    public var kind: EventKind
    public var merchantID: Int64
    public var orderType: Int?
    public var orderNo: String
    public var status: Int
    public var order: OrderReference
    /// `nil` when the status has no known place in the order's progress:
    /// such an event is never stale.
    public var statusRank: Int?
    /// A callback, or an Order Query answer (see ``IdempotencyStore/record(_:lease:now:)``
    /// for how the two are matched).
    public var source: EventSource
    public var rawBody: [UInt8]
    public var receivedAt: Date

    public init(
        id: String = NewInboxEvent.makeID(), key: IdempotencyKey, contentHash: String, kind: EventKind,
        merchantID: Int64, orderType: Int?, orderNo: String, status: Int, order: OrderReference, statusRank: Int?,
        source: EventSource = .callback, rawBody: [UInt8], receivedAt: Date
    ) {
        self.id = id
        self.key = key
        self.contentHash = contentHash
        self.kind = kind
        self.merchantID = merchantID
        self.orderType = orderType
        self.orderNo = orderNo
        self.status = status
        self.order = order
        self.statusRank = statusRank
        self.source = source
        self.rawBody = rawBody
        self.receivedAt = receivedAt
    }

    /// A fresh event id: a lower-case time-ordered (version 7) UUID (see
    /// `EventUUIDs`), as `uuidString.lowercased()` writes it.
    public static func makeID() -> String { idText(EventUUIDs.next()) }

    /// `uuid`'s text in lower case (`8-4-4-4-12` hex digits), written from
    /// its bytes: `uuidString` formats through `snprintf` in upper case and
    /// `lowercased()` copies it again (about 7,000 instructions a callback).
    package static func idText(_ uuid: UUID) -> String {
        withUnsafeBytes(of: uuid.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var end = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[end] = UInt8(ascii: "-")
                        end += 1
                    }
                    out[end] = lowerHexDigit(byte >> 4)
                    out[end + 1] = lowerHexDigit(byte & 0x0F)
                    end += 2
                }
                return end
            }
        }
    }

    private static func lowerHexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

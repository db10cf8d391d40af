import Foundation

/// A verified callback as the inbox keeps it: the raw body plus what the
/// pipeline, the workers and an operator's `events list` need without
/// parsing it again.
///
/// It never holds a merchant secret. `description` leaves out the body.
public struct InboxEvent: Sendable, Equatable, CustomStringConvertible {
    /// Stable id (a lower-case UUID string), given at first receipt.
    public let id: String
    public let key: IdempotencyKey
    /// Tells a duplicate (same hash) from a conflict (same key, other hash):
    /// the hash of the verified signed text (`AuthenticCallback.contentHash`).
    public let contentHash: String
    public let kind: EventKind
    /// The payment's `merchant_id`, or the merchant of the card route.
    public let merchantID: Int64
    /// Payments: the order type code (`0` payin, `1` payout). Card callbacks:
    /// `nil` (their `type` is part of ``order``).
    public let orderType: Int?
    public let orderNo: String
    /// The status code as received.
    public let status: Int
    /// Identifies the order whose last status the inbox tracks.
    public let order: OrderReference
    /// The last status seen for the order before this event; `nil` for the first.
    public let previousStatus: Int?
    /// The event would move its order backwards (e.g. 5 after 7); the handler decides.
    public let isStale: Bool
    /// Where the event came from: a signed callback or an Order Query answer.
    public let source: EventSource
    /// The body exactly as posted; for an order-query event, the API's
    /// answer exactly as received (its `contentHash` is the lower-case hex
    /// MD5 of these bytes).
    public let rawBody: [UInt8]
    public let receivedAt: Date
    public var state: EventState
    /// Handler runs started so far (claims), including the one in progress.
    public var attempts: Int
    /// The error of the last failed attempt.
    public var lastError: String?
    /// Repeats with the same key but different signed content.
    public var conflicts: Int

    public init(
        id: String, key: IdempotencyKey, contentHash: String, kind: EventKind, merchantID: Int64, orderType: Int?,
        orderNo: String, status: Int, order: OrderReference, previousStatus: Int?, isStale: Bool,
        source: EventSource = .callback, rawBody: [UInt8], receivedAt: Date, state: EventState = .pending,
        attempts: Int = 0, lastError: String? = nil, conflicts: Int = 0
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
        self.previousStatus = previousStatus
        self.isStale = isStale
        self.source = source
        self.rawBody = rawBody
        self.receivedAt = receivedAt
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.conflicts = conflicts
    }

    /// Log-safe: ids, merchant, order number, status and state only.
    public var description: String {
        "InboxEvent(\(id), \(kind) order \(orderNo) of merchant \(merchantID), status \(status), \(state), "
            + "attempts \(attempts)\(isStale ? ", stale" : "")\(source == .orderQuery ? ", from an order query" : ""))"
    }
}

import Foundation
import Inbox

extension NewInboxEvent {
    /// When ``newEvent(_:status:rank:hash:kind:merchantID:body:at:)`` receives
    /// events: this process's start in whole seconds, so that a store keeping
    /// milliseconds returns the times unchanged, and about now, so that a
    /// lease taken at it is live for `purge` (which compares leases with the
    /// real clock) unless it is shorter than the test run.
    public static let testEpoch = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
}

/// A new event for store tests, received `offset` seconds after
/// ``NewInboxEvent/testEpoch``: keyed by its kind, merchant, order and
/// status, its order referenced by kind, merchant and order, its raw body
/// `{"order_no":"…"}` unless given.
///
/// ```swift
/// let paid = try await store.record(newEvent("A-1", status: 5, rank: 1), lease: .none, now: NewInboxEvent.testEpoch)
/// let refunded = try await store.record(newEvent("A-1", status: 7, rank: 4, at: 10), lease: .none, now: NewInboxEvent.testEpoch)
/// ```
public func newEvent(
    _ order: String = "O-1", status: Int = 5, rank: Int? = 1, hash: String = "h1", kind: EventKind = .payment,
    merchantID: Int64 = 1, body: [UInt8]? = nil, at offset: Double = 0
) -> NewInboxEvent {
    NewInboxEvent(
        key: IdempotencyKey(rawValue: "[\"\(kind)\",\(merchantID),\"\(order)\",\(status)]"), contentHash: hash,
        kind: kind, merchantID: merchantID, orderType: kind == .payment ? 0 : nil, orderNo: order, status: status,
        order: OrderReference(rawValue: "[\"\(kind)\",\(merchantID),\"\(order)\"]"), statusRank: rank,
        rawBody: body ?? Array("{\"order_no\":\"\(order)\"}".utf8),
        receivedAt: NewInboxEvent.testEpoch.addingTimeInterval(offset))
}

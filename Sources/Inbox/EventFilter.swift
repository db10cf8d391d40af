import Foundation

/// Which events ``InboxAdministration/list(_:)``, ``InboxAdministration/count(_:)``
/// and ``InboxAdministration/purge(_:)`` touch. Every criterion left `nil`
/// matches everything; listings are in order of receipt, oldest first
/// unless ``newestFirst``, and ``offset`` then ``limit`` page through them.
///
/// ```swift
/// let dead = try await store.list(EventFilter(states: [.dead], merchantID: 8820250900009))
/// ```
public struct EventFilter: Sendable, Equatable {
    public var states: Set<EventStateName>?
    public var kinds: Set<EventKind>?
    public var merchantID: Int64?
    public var orderNo: String?
    public var status: Int?
    /// Received at or after.
    public var receivedFrom: Date?
    /// Received before.
    public var receivedBefore: Date?
    public var limit: Int?
    /// Listings only: newest first (a console's page), not oldest first.
    public var newestFirst: Bool
    /// Listings only: skips this many matching events, in the listing's
    /// order, before ``limit`` applies.
    public var offset: Int?

    public init(
        states: Set<EventStateName>? = nil, kinds: Set<EventKind>? = nil, merchantID: Int64? = nil,
        orderNo: String? = nil, status: Int? = nil, receivedFrom: Date? = nil, receivedBefore: Date? = nil,
        limit: Int? = nil, newestFirst: Bool = false, offset: Int? = nil
    ) {
        self.states = states
        self.kinds = kinds
        self.merchantID = merchantID
        self.orderNo = orderNo
        self.status = status
        self.receivedFrom = receivedFrom
        self.receivedBefore = receivedBefore
        self.limit = limit
        self.newestFirst = newestFirst
        self.offset = offset
    }

    /// Dead letters only.
    public static let deadLetters = EventFilter(states: [.dead])

    public func matches(_ event: InboxEvent) -> Bool {
        if let states, !states.contains(event.state.name) { return false }
        if let kinds, !kinds.contains(event.kind) { return false }
        if let merchantID, event.merchantID != merchantID { return false }
        if let orderNo, !event.orderNo.utf8.elementsEqual(orderNo.utf8) { return false }
        if let status, event.status != status { return false }
        if let receivedFrom, event.receivedAt < receivedFrom { return false }
        if let receivedBefore, event.receivedAt >= receivedBefore { return false }
        return true
    }
}

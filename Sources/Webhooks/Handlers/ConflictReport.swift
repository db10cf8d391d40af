import Foundation
import Inbox

/// A callback with the key of an event already stored but different signed
/// content: acknowledged, not dispatched, reported. Two different signed
/// bodies for the same order status usually mean the provider changed an
/// amount or a field after the fact; a person should look.
public struct ConflictReport: Sendable {
    /// The event first stored under the key (its handlers ran on that content).
    public let existing: InboxEvent
    /// The body that arrived now (verified, but not stored).
    public let conflictingBody: [UInt8]
    public let conflictingContentHash: String
    /// Conflicts seen for this key so far, this one included.
    public let count: Int
    public let receivedAt: Date

    public init(
        existing: InboxEvent, conflictingBody: [UInt8], conflictingContentHash: String, count: Int, receivedAt: Date
    ) {
        self.existing = existing
        self.conflictingBody = conflictingBody
        self.conflictingContentHash = conflictingContentHash
        self.count = count
        self.receivedAt = receivedAt
    }

    public var key: IdempotencyKey { existing.key }
}

extension ConflictReport: CustomStringConvertible {
    public var description: String {
        "ConflictReport(\(existing.kind) order \(existing.orderNo) of merchant \(existing.merchantID), "
            + "status \(existing.status), event \(existing.id), conflict #\(count))"
    }
}

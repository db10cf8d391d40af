import Foundation
import Locking
import TrustPay

/// The simulator's orders and where each one stands: the latest status that
/// has happened and how its notification went. What the query answers.
final class OrderBook: Sendable {
    struct Key: Hashable, Sendable {
        let merchantID: Int64
        let orderNo: String
    }

    struct Entry: Sendable {
        var order: ScriptedOrder
        /// Index into `order.statuses` of the latest status that happened; `nil` before the first.
        var current: Int?
        /// Notification of the current status: 1 pending, 2 sent, 3 failed.
        var notifyStatus = 1
        var notifyTime: Date?
        let createdAt: Date
    }

    private let entries: Locked<[Key: Entry]>

    init(_ orders: [ScriptedOrder], now: Date = Date()) {
        var entries: [Key: Entry] = [:]
        for order in orders {
            entries[Key(merchantID: order.merchantID, orderNo: order.orderNo)] = Entry(
                order: order, current: nil, createdAt: now)
        }
        self.entries = Locked(entries)
    }

    func add(_ order: ScriptedOrder, reached: Int?) {
        entries.withLock {
            $0[Key(merchantID: order.merchantID, orderNo: order.orderNo)] = Entry(
                order: order, current: reached, createdAt: Date())
        }
    }

    func entry(merchantID: Int64, orderNo: String) -> Entry? {
        entries.withLock { $0[Key(merchantID: merchantID, orderNo: orderNo)] }
    }

    /// Status `index` has happened: it becomes current unless a later one already did.
    func reach(_ index: Int, of key: Key) {
        entries.withLock { entries in
            guard var entry = entries[key] else { return }
            if (entry.current ?? -1) < index {
                entry.current = index
                entry.notifyStatus = 1
            }
            entries[key] = entry
        }
    }

    /// How the delivery of status `index` ended; it is the answer's
    /// `notify_status` only while that status is current.
    func notified(_ index: Int, of key: Key, succeeded: Bool) {
        entries.withLock { entries in
            guard var entry = entries[key], entry.current == index else { return }
            entry.notifyStatus = succeeded ? 2 : 3
            entry.notifyTime = Date()
            entries[key] = entry
        }
    }
}

import Foundation

/// When and how much the sweep queries (the `reconcile` settings).
package struct ReconciliationPolicy: Sendable, Equatable {
    /// Between sweeps; also how long a replica holds an order's query lease,
    /// so an order is queried at most once per interval across replicas.
    package var interval: Duration
    /// Quiet time before an order (not final, or expected without events) is queried.
    package var after: Duration
    /// Orders first seen longer ago are left alone.
    package var maxAge: Duration
    /// Statuses after which an order is not queried.
    package var finalStatuses: Set<Int>
    /// Order queries in flight at once, for the whole sweep.
    package var concurrency: Int
    /// The most orders one sweep takes (the oldest); the rest wait for the next.
    package var batchLimit: Int

    package init(
        interval: Duration = .seconds(300), after: Duration = .seconds(900), maxAge: Duration = .seconds(7 * 86400),
        finalStatuses: Set<Int> = [2, 3, 4, 5, 6, 7, 8], concurrency: Int = 4, batchLimit: Int = 1000
    ) {
        self.interval = interval
        self.after = after
        self.maxAge = maxAge
        self.finalStatuses = finalStatuses
        self.concurrency = max(1, concurrency)
        self.batchLimit = max(1, batchLimit)
    }
}

import Foundation
import Inbox
import TrustPayWebhooksTesting
import Webhooks
import Locking

/// A store that notes every `claimDue`: who asked, and whether it found
/// anything. A worker claims again only once the batch it claimed before
/// has run, so a worker that asks and finds nothing is idle: when every
/// worker has done so since some moment, nothing they claimed before that
/// moment is still running, and nothing was due.
///
/// Events recorded already leased to the workers (``LeaseRequest/ifFirstOfOrder(_:)``,
/// handed over without a claim) count as work in progress until their
/// attempt is finished (completed, failed or dead-lettered): a worker may
/// claim nothing while such an event waits to run.
///
/// This is how the tests wait for "no second run": for a positive signal
/// that the work that could have caused one is over, not for a while.
///
/// ```swift
/// let store = WatchedStore(inbox)
/// … deliver the duplicate …
/// try await store.waitUntilIdle(workers: 2, since: store.mark())
/// #expect(runs.count == 1)
/// ```
package final class WatchedStore: InboxAdministration {
    package let inner: any InboxAdministration
    private let claims = Locked(Claims())

    private struct Claims {
        var started = 0
        /// Each worker's latest empty claim, by the number it started with.
        var lastEmpty: [String: Int] = [:]
        /// Events recorded already leased to a worker, not finished yet.
        var handedOver: Set<String> = []
    }

    package init(_ inner: any InboxAdministration) { self.inner = inner }

    /// As the store watched: with a group-committing store, the workers take
    /// new events while their last outcomes commit, and a worker with
    /// nothing handed over claims only once its own outcomes are recorded,
    /// so an empty claim still means that worker is idle.
    package var writesWaitForGroupCommit: Bool { inner.writesWaitForGroupCommit }

    /// A moment to wait from: the claims started so far.
    package func mark() -> Int { claims.withLock { $0.started } }

    /// The workers whose claim started after `mark` found nothing.
    package func idleWorkers(since mark: Int) -> Set<String> {
        claims.withLock { claims in
            claims.handedOver.isEmpty ? Set(claims.lastEmpty.filter { $0.value > mark }.keys) : []
        }
    }

    /// Waits until `workers` workers (every worker of the servers on this
    /// store) have each found nothing due in a claim started after `mark`.
    package func waitUntilIdle(workers: Int, since mark: Int, timeout: Duration = .seconds(30)) async throws {
        try await eventually("\(workers) worker(s) to find nothing due", timeout: timeout) {
            self.idleWorkers(since: mark).count >= workers
        }
    }

    package func claimDue(owner: String, limit: Int, leaseDuration: Duration, now: Date) async throws -> [InboxEvent] {
        let number = claims.withLock { claims in
            claims.started += 1
            return claims.started
        }
        let claimed = try await inner.claimDue(owner: owner, limit: limit, leaseDuration: leaseDuration, now: now)
        if claimed.isEmpty { claims.withLock { $0.lastEmpty[owner] = max($0.lastEmpty[owner] ?? 0, number) } }
        return claimed
    }

    package func record(_ event: NewInboxEvent, lease: LeaseRequest, now: Date) async throws -> RecordOutcome {
        let outcome = try await inner.record(event, lease: lease, now: now)
        if case .ifFirstOfOrder = lease, case .recorded(let recorded) = outcome, recorded.state.name == .processing {
            _ = claims.withLock { $0.handedOver.insert(recorded.id) }
        }
        return outcome
    }

    private func finished(_ id: String) {
        _ = claims.withLock { $0.handedOver.remove(id) }
    }
    package func claim(id: String, owner: String, leaseDuration: Duration, now: Date) async throws -> InboxEvent? {
        try await inner.claim(id: id, owner: owner, leaseDuration: leaseDuration, now: now)
    }
    package func complete(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        defer { finished(id) }
        return try await inner.complete(id: id, owner: owner, attempt: attempt)
    }
    package func fail(id: String, owner: String, attempt: HandlerAttempt, retryAt: Date) async throws -> Bool {
        defer { finished(id) }
        return try await inner.fail(id: id, owner: owner, attempt: attempt, retryAt: retryAt)
    }
    package func deadLetter(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        defer { finished(id) }
        return try await inner.deadLetter(id: id, owner: owner, attempt: attempt)
    }
    package func history(id: String) async throws -> EventHistory { try await inner.history(id: id) }
    package func event(id: String) async throws -> InboxEvent? { try await inner.event(id: id) }
    package func list(_ filter: EventFilter) async throws -> [InboxEvent] { try await inner.list(filter) }
    package func replay(id: String, now: Date) async throws -> InboxEvent? { try await inner.replay(id: id, now: now) }
    package func purge(_ filter: EventFilter) async throws -> Int { try await inner.purge(filter) }
    package func prune(completedBefore date: Date) async throws -> Int { try await inner.prune(completedBefore: date) }
    package func checkAvailability() async throws { try await inner.checkAvailability() }
}

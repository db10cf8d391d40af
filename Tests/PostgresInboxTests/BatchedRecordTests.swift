import Foundation
import Inbox
import InboxTesting
import PostgresInbox
import PostgresNIO
import Testing
import TestSupport
import TrustPayWebhooksTesting

extension PostgreSQLTests {
    /// New events recorded in batches (`GroupCommit`, `trustpay_record_events`)
    /// on a real database. Each test holds the inbox's only record writer
    /// (pool size 2) inside a first batch, blocked on a row lock taken by
    /// another session, so that the records made meanwhile wait together
    /// and go in one batch once the lock is released.
    @Suite struct BatchedRecordTests {
        static let lease = Lease(owner: "w", duration: .seconds(30))

        /// Made to fail by answering each caller with the event recorded
        /// under its key (as if the rows were matched by key, not by place
        /// in the batch): both callers were told `.recorded`.
        @Test func aKeyRepeatedInOneBatchIsRecordedOnceAndTheRepeatIsADuplicate() async throws {
            let outcomes = try await Self.inOneBatch { inbox in
                [
                    { try await inbox.record(newEvent("O-TWICE"), lease: .none, now: t0) },
                    { try await inbox.record(newEvent("O-TWICE"), lease: .none, now: t0) },
                    { try await inbox.record(newEvent("O-TWICE", hash: "h2"), lease: .none, now: t0) },
                ]
            } check: { inbox in
                let stored = try await inbox.count(EventFilter(orderNo: "O-TWICE"))
                #expect(stored == 1)
            }
            let recorded = outcomes.filter { if case .recorded = $0 { true } else { false } }
            #expect(recorded.count == 1)
            #expect(outcomes.filter { if case .duplicate = $0 { true } else { false } }.count == 1)
            #expect(outcomes.filter { if case .conflict = $0 { true } else { false } }.count == 1)
            #expect(Set(outcomes.map(\.event.id)).count == 1, "all three name the one stored event")
        }

        /// Made to fail by deciding the `.ifFirstOfOrder` leases of a batch
        /// once, before its first insert (as one set-based statement over
        /// the batch would): both events of O-PAIR were leased.
        @Test func onlyTheFirstEventOfAnOrderInABatchGetsTheFirstOfOrderLease() async throws {
            let outcomes = try await Self.inOneBatch { inbox in
                [
                    { try await inbox.record(newEvent("O-PAIR", status: 3, rank: 1), lease: .ifFirstOfOrder(Self.lease), now: t0) },
                    { try await inbox.record(newEvent("O-PAIR", status: 5, rank: 2), lease: .ifFirstOfOrder(Self.lease), now: t0) },
                    { try await inbox.record(newEvent("O-OTHER"), lease: .ifFirstOfOrder(Self.lease), now: t0) },
                ]
            } check: { _ in }
            let states = outcomes.map { outcome -> String in
                guard case .recorded(let event) = outcome else { return "not recorded" }
                return event.state.name.rawValue
            }
            #expect(states == ["processing", "pending", "processing"])
            // Only the leased one is claimable; the other is held behind it.
            #expect(outcomes[1].event.previousStatus == 3)
        }

        /// The events alone of their order in a batch are recorded
        /// set-based (migration 10), with what one call after another
        /// gives: held behind their order's unfinished event and not
        /// leased, stale against their order's last rank, a duplicate of a
        /// reconciled event, leased as first of their order. Made to fail
        /// by holding none of the set-based events, and by taking no
        /// order's last rank (the batch function edited in the database).
        @Test func eventsAloneOfTheirOrderInABatchAreRecordedAsOneAfterAnother() async throws {
            var queried = newEvent("O-QUERIED", status: 5)
            queried.source = .orderQuery
            let answer = queried
            var callback = newEvent("O-QUERIED", status: 5)
            callback.key = IdempotencyKey(rawValue: callback.key.rawValue + "-callback")
            let reconciled = callback
            let (outcomes, answerID) = try await Self.withBatchingInbox { inbox, url in
                var before: [InboxEvent] = []
                for (event, lease) in [
                    (newEvent("O-OPEN", status: 3), LeaseRequest.none),
                    (newEvent("O-RANKED", status: 7, rank: 4), .ifFirstOfOrder(Self.lease)),
                    (answer, .none),
                ] {
                    before.append(try await inbox.record(event, lease: lease, now: t0).event)
                }
                let calls: [@Sendable () async throws -> RecordOutcome] = [
                    { try await inbox.record(newEvent("O-OPEN", status: 5, rank: 2), lease: .ifFirstOfOrder(Self.lease), now: t0) },
                    { try await inbox.record(newEvent("O-RANKED", status: 5, rank: 2), lease: .none, now: t0) },
                    { try await inbox.record(reconciled, lease: .ifFirstOfOrder(Self.lease), now: t0) },
                    { try await inbox.record(newEvent("O-FRESH"), lease: .ifFirstOfOrder(Self.lease), now: t0) },
                ]
                let outcomes = try await Self.heldInOneBatch(inbox, url, calls).map { try $0.get() }
                let held = try await heldEvents(url)
                #expect(held.contains(outcomes[0].event.id), "held behind O-OPEN's first")
                #expect(held.contains(outcomes[1].event.id), "held behind O-RANKED's first")
                #expect(!held.contains(outcomes[3].event.id))
                // The stale event left its order's status where it was.
                let after = try await inbox.record(newEvent("O-RANKED", status: 9, rank: 5), lease: .none, now: t0)
                #expect(after.event.previousStatus == 7)
                let fresh = try await inbox.record(newEvent("O-FRESH", status: 7, rank: 2), lease: .none, now: t0)
                #expect(fresh.event.previousStatus == 5)
                return (outcomes, before[2].id)
            }
            guard case .recorded(let open) = outcomes[0], case .recorded(let ranked) = outcomes[1],
                case .duplicate(let matched) = outcomes[2], case .recorded(let fresh) = outcomes[3]
            else {
                Issue.record("unexpected outcomes: \(outcomes)")
                return
            }
            #expect(open.state == .pending, "its order has an unfinished event: no lease")
            #expect(open.previousStatus == 3)
            #expect(!open.isStale)
            #expect(ranked.isStale)
            #expect(ranked.previousStatus == 7)
            #expect(matched.id == answerID, "the order query's answer stands for the callback")
            #expect(fresh.state.name == .processing)
            #expect(fresh.previousStatus == nil)
        }

        /// Copies of one event in a batch (one order, key, status and
        /// source) are recorded together (migration 11), with what one call
        /// after another gives: the first leased as first of its order, the
        /// second a duplicate of it. One key with two statuses is no copy:
        /// made to fail by taking every event of one order and key as
        /// copies of the first (the batch function edited in the
        /// database), when the second event, of a status no reconciled
        /// event stands for, was left out and its record failed.
        @Test func copiesOfAnEventInABatchAreRecordedAsOneAfterAnother() async throws {
            var queried = newEvent("O-RECONCILED", status: 5)
            queried.source = .orderQuery
            let answer = queried
            var first = newEvent("O-RECONCILED", status: 5)
            first.key = IdempotencyKey(rawValue: "k-shared")
            var second = newEvent("O-RECONCILED", status: 7, rank: 2)
            second.key = first.key
            let (reconciled, moving) = (first, second)
            try await Self.withBatchingInbox { inbox, url in
                _ = try await inbox.record(answer, lease: .none, now: t0)
                let outcomes = try await Self.heldInOneBatch(
                    inbox, url,
                    [
                        { try await inbox.record(newEvent("O-COPIED"), lease: .ifFirstOfOrder(Self.lease), now: t0) },
                        { try await inbox.record(newEvent("O-COPIED"), lease: .ifFirstOfOrder(Self.lease), now: t0) },
                        { try await inbox.record(reconciled, lease: .none, now: t0) },
                        { try await inbox.record(moving, lease: .none, now: t0) },
                    ]
                ).map { try $0.get() }
                guard case .recorded(let copied) = outcomes[0], case .duplicate(let copy) = outcomes[1],
                    case .duplicate = outcomes[2], case .recorded(let moved) = outcomes[3]
                else {
                    Issue.record("unexpected outcomes: \(outcomes)")
                    return
                }
                #expect(copied.state.name == .processing)
                #expect(copy.id == copied.id)
                // The first was kept out by the reconciled event; read after
                // the commit, its key finds the second, stored meanwhile.
                #expect(moved.status == 7)
                #expect(try await inbox.count(EventFilter(orderNo: "O-COPIED")) == 1)
            }
        }

        /// A record answers with what the database decided and reads back
        /// only those columns (session 13): the event it answers is the
        /// one a later read finds, on both of the batch function's paths
        /// (an order alone in the batch, set-based; an order twice, one
        /// after another), leased or not, with a time of receipt finer
        /// than the database keeps. Made to fail by taking the time of
        /// receipt as sent (PostgreSQL keeps microseconds).
        @Test func aRecordedEventIsTheEventReadBack() async throws {
            let fine = 0.123_456_789
            try await Self.withBatchingInbox { inbox, url in
                let outcomes = try await Self.heldInOneBatch(
                    inbox, url,
                    [
                        { try await inbox.record(newEvent("O-ALONE", at: fine), lease: .ifFirstOfOrder(Self.lease), now: t0) },
                        { try await inbox.record(newEvent("O-TWO", status: 3, at: fine), lease: .always(Self.lease), now: t0) },
                        { try await inbox.record(newEvent("O-TWO", status: 5, rank: 2, at: fine), lease: .none, now: t0) },
                    ]
                ).map { try $0.get() }
                #expect(outcomes.allSatisfy { if case .recorded = $0 { true } else { false } })
                #expect(outcomes.map(\.event.state.name) == [.processing, .processing, .pending])
                #expect(outcomes[2].event.previousStatus == 3)
                // And one at a time, outside a held batch.
                let single = try await inbox.record(newEvent("O-SINGLE", at: fine), lease: .none, now: t0)
                for recorded in outcomes.map(\.event) + [single.event] {
                    #expect(try await inbox.event(id: recorded.id) == recorded)
                }
            }
        }

        /// Made to fail by writing the events of a failed batch again one
        /// by one (a tempting fallback): the good events were recorded and
        /// their callers acknowledged, although their batch failed.
        @Test func aFailingBatchFailsEveryCallerAndStoresNothing() async throws {
            try await Self.withBatchingInbox { inbox, url in
                let taken = try await inbox.record(newEvent("O-TAKEN"), lease: .none, now: t0).event
                var clash = newEvent("O-CLASH", status: 7)
                clash.id = taken.id  // another key under a stored event's id: its insert fails
                let clashing = clash
                let calls: [@Sendable () async throws -> RecordOutcome] = [
                    { try await inbox.record(newEvent("O-GOOD-1"), lease: .none, now: t0) },
                    { try await inbox.record(clashing, lease: .none, now: t0) },
                    { try await inbox.record(newEvent("O-GOOD-2"), lease: .none, now: t0) },
                ]
                let results = try await Self.heldInOneBatch(inbox, url, calls)
                for result in results {
                    guard case .failure(let error) = result else {
                        Issue.record("acknowledged in a failed batch: \(result)")
                        continue
                    }
                    #expect(error is StoreError, "\(error)")
                }
                #expect(try await inbox.count(EventFilter()) == 3, "the taken event and the two blocking ones only")
            }
        }

        /// An inbox with one record writer (pool size 2) on a fresh database, and the database's URL.
        static func withBatchingInbox<Result: Sendable>(
            _ body: (PostgresInbox, String) async throws -> Result
        ) async throws -> Result {
            let url = try await sharedServer().createDatabase()
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger)
            return try await using(inbox) { try await body(inbox, url) }
        }

        /// Runs `calls` in one batch on a fresh inbox; then `check`.
        static func inOneBatch(
            _ calls: (PostgresInbox) -> [@Sendable () async throws -> RecordOutcome],
            check: (PostgresInbox) async throws -> Void
        ) async throws -> [RecordOutcome] {
            try await withBatchingInbox { inbox, url in
                let results = try await heldInOneBatch(inbox, url, calls(inbox))
                try await check(inbox)
                return try results.map { try $0.get() }
            }
        }

        /// Holds the inbox's record writer in a batch of its own, blocked
        /// on the status row of an order locked by another session, makes
        /// `calls` (in order, each waiting before the next starts), then
        /// releases the lock: they go in the next batch together.
        static func heldInOneBatch(
            _ inbox: PostgresInbox, _ url: String, _ calls: [@Sendable () async throws -> RecordOutcome]
        ) async throws -> [Result<RecordOutcome, any Error>] {
            _ = try await inbox.record(newEvent("O-BLOCK", status: 3), lease: .none, now: t0)
            return try await withRawClient(url) { raw in
                let (release, releaser) = AsyncStream<Void>.makeStream()
                let (locked, lockTaken) = AsyncStream<Void>.makeStream()
                return try await withThrowingTaskGroup(of: Void.self) { locker in
                    let blocked = newEvent("O-BLOCK").order.rawValue
                    locker.addTask {
                        defer { lockTaken.finish() }  // never left waiting if the lock fails
                        try await raw.withTransaction(logger: testLogger) { connection in
                            try await connection.query(
                                "SELECT 1 FROM trustpay_order_status WHERE order_ref = \(blocked) FOR UPDATE",
                                logger: testLogger)
                            lockTaken.yield()
                            for await _ in release { break }
                        }
                    }
                    defer { releaser.finish() }
                    for await _ in locked { break }
                    return try await withThrowingTaskGroup(of: (Int, Result<RecordOutcome, any Error>).self) { group in
                        group.addTask {
                            (-1, await outcome { try await inbox.record(newEvent("O-BLOCK", status: 5), lease: .none, now: t0) })
                        }
                        try await eventually("the first batch to wait for the lock") {
                            try await blockedSessions(raw) == 1
                        }
                        for (index, call) in calls.enumerated() {
                            group.addTask { (index, await outcome(of: call)) }
                            try await eventually("record \(index) to wait for a batch") {
                                inbox.recordsWaiting == index + 1
                            }
                        }
                        releaser.yield()
                        var results: [Int: Result<RecordOutcome, any Error>] = [:]
                        for try await (index, result) in group where index >= 0 { results[index] = result }
                        return try calls.indices.map { try #require(results[$0]) }
                    }
                }
            }
        }

        /// What `call` returned or threw.
        static func outcome(of call: @Sendable () async throws -> RecordOutcome) async -> Result<RecordOutcome, any Error> {
            do {
                return .success(try await call())
            } catch {
                return .failure(error)
            }
        }

        /// The inbox's sessions waiting for a lock in its database (the suite's tests run at once, on one cluster).
        static func blockedSessions(_ client: PostgresClient) async throws -> Int {
            var count = 0
            for try await n in try await client.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'trustpay-webhooks' AND wait_event_type = 'Lock'
                """, logger: testLogger
            ).decode(Int.self) {
                count = n
            }
            return count
        }
    }
}

import Foundation
import PostgresInbox
import Testing
import TrustPayWebhooksTesting
import Webhooks

/// Every test below runs against one private PostgreSQL, each on a fresh database.
@Suite(
    .postgreSQL,
    .enabled(if: TestPostgreSQL.shouldRun, Comment(rawValue: TestPostgreSQL.missingMessage)))
struct PostgreSQLTests {}

let t0 = Date(timeIntervalSince1970: 1_750_000_000)

func newEvent(
    _ order: String = "O-1", status: Int = 5, rank: Int? = 1, hash: String = "h1", at offset: Double = 0,
    kind: EventKind = .payment, merchantID: Int64 = 1, body: [UInt8] = Array("{}".utf8)
) -> NewInboxEvent {
    NewInboxEvent(
        key: IdempotencyKey(rawValue: "[\"\(order)\",\(status)]"), contentHash: hash, kind: kind,
        merchantID: merchantID, orderType: kind == .payment ? 0 : nil, orderNo: order, status: status,
        order: OrderReference(rawValue: order), statusRank: rank, rawBody: body,
        receivedAt: t0.addingTimeInterval(offset))
}

extension PostgreSQLTests {
    /// The behaviours of the memory inbox (MemoryInboxTests), on PostgreSQL.
    @Suite struct InboxBehaviourTests {
        @Test func recordsOncePerKeyAndTellsDuplicatesFromConflicts() async throws {
            try await withInbox { inbox in
                let first = try await inbox.record(newEvent(), lease: nil, now: t0)
                guard case .recorded(let event) = first else { Issue.record("not recorded: \(first)"); return }
                #expect(event.state == .pending && event.attempts == 0 && event.conflicts == 0)
                let again = try await inbox.record(newEvent(), lease: nil, now: t0)
                #expect(again == .duplicate(event))
                let other = try await inbox.record(newEvent(hash: "h2"), lease: nil, now: t0)
                guard case .conflict(let conflicted) = other else { Issue.record("not a conflict: \(other)"); return }
                #expect(conflicted.id == event.id && conflicted.conflicts == 1 && conflicted.contentHash == "h1")
                let twice = try await inbox.record(newEvent(hash: "h3"), lease: nil, now: t0)
                #expect(twice.event.conflicts == 2)
                #expect(try await inbox.list(EventFilter()).count == 1)
            }
        }

        @Test func keepsEveryFieldAndTheBodyByteForByte() async throws {
            try await withInbox { inbox in
                let body = Array(0...255).map(UInt8.init) + Array("{\"order_no\":\"ü-1\"}".utf8)
                var new = newEvent("Ü-1 'quoted'", kind: .card, merchantID: 8_820_250_900_009, body: body)
                new.receivedAt = t0.addingTimeInterval(0.25)
                let recorded = try await inbox.record(new, lease: nil, now: t0).event
                let read = try #require(try await inbox.event(id: new.id))
                #expect(read == recorded)
                #expect(read.id == new.id && read.key == new.key && read.contentHash == "h1")
                #expect(read.kind == .card && read.merchantID == 8_820_250_900_009 && read.orderType == nil)
                #expect(read.orderNo == "Ü-1 'quoted'" && read.status == 5 && read.order == new.order)
                #expect(read.rawBody == body)
                #expect(read.receivedAt == t0.addingTimeInterval(0.25))
                #expect(try await inbox.event(id: "no-such-event") == nil)
            }
        }

        @Test func tracksTheLastStatusPerOrderAndFlagsStaleEvents() async throws {
            try await withInbox { inbox in
                let refunded = try await inbox.record(newEvent(status: 7, rank: 4), lease: nil, now: t0).event
                #expect(refunded.previousStatus == nil && !refunded.isStale)
                let late = try await inbox.record(newEvent(status: 5, rank: 1), lease: nil, now: t0).event
                #expect(late.previousStatus == 7 && late.isStale)
                let unranked = try await inbox.record(newEvent(status: 42, rank: nil), lease: nil, now: t0).event
                #expect(unranked.previousStatus == 7 && !unranked.isStale)
                let next = try await inbox.record(newEvent(status: 8, rank: 3), lease: nil, now: t0).event
                #expect(next.previousStatus == 42 && next.isStale)  // rank 3 < 4 kept from status 7
                let otherOrder = try await inbox.record(newEvent("O-2", status: 5, rank: 1), lease: nil, now: t0).event
                #expect(otherOrder.previousStatus == nil)
                // A duplicate changes nothing.
                _ = try await inbox.record(newEvent(status: 8, rank: 3), lease: nil, now: t0)
                let after = try await inbox.record(newEvent(status: 9, rank: 5), lease: nil, now: t0).event
                #expect(after.previousStatus == 42 && !after.isStale)
            }
        }

        @Test func recordingWithALeaseClaimsTheEvent() async throws {
            try await withInbox { inbox in
                let event = try await inbox.record(
                    newEvent(), lease: Lease(owner: "request-1", duration: .seconds(30)), now: t0
                ).event
                #expect(event.state == .processing(owner: "request-1", leaseUntil: t0.addingTimeInterval(30)))
                #expect(event.attempts == 1)
                #expect(try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0).isEmpty)
                #expect(try await inbox.claim(id: event.id, owner: "w", leaseDuration: .seconds(30), now: t0) == nil)
                #expect(try await inbox.complete(id: event.id, owner: "request-1", now: t0))
                #expect(try await inbox.event(id: event.id)?.state == .completed(at: t0))
            }
        }

        @Test func claimsAreExclusiveAndLeasesExpire() async throws {
            try await withInbox { inbox in
                for index in 0..<5 { _ = try await inbox.record(newEvent("O-\(index)"), lease: nil, now: t0) }
                let a = try await inbox.claimDue(owner: "a", limit: 3, leaseDuration: .seconds(30), now: t0)
                let b = try await inbox.claimDue(owner: "b", limit: 3, leaseDuration: .seconds(30), now: t0)
                #expect(a.map(\.orderNo) == ["O-0", "O-1", "O-2"])
                #expect(b.map(\.orderNo) == ["O-3", "O-4"])
                #expect(a.allSatisfy { $0.attempts == 1 && $0.state == .processing(owner: "a", leaseUntil: t0.addingTimeInterval(30)) })
                #expect(try await inbox.claimDue(owner: "c", limit: 10, leaseDuration: .seconds(30), now: t0).isEmpty)
                #expect(try await inbox.claimDue(owner: "c", limit: 0, leaseDuration: .seconds(30), now: t0).isEmpty)
                // "a" crashed: after its lease, "c" takes its events over.
                let later = t0.addingTimeInterval(31)
                let takenOver = try await inbox.claimDue(owner: "c", limit: 2, leaseDuration: .seconds(30), now: later)
                #expect(takenOver.map(\.orderNo) == ["O-0", "O-1"])
                #expect(takenOver.allSatisfy { $0.attempts == 2 })
                // The old owner can no longer finish them; the new one can.
                #expect(try await inbox.complete(id: takenOver[0].id, owner: "a", now: later) == false)
                #expect(try await inbox.fail(id: takenOver[0].id, owner: "a", error: "x", retryAt: later, now: later) == false)
                #expect(try await inbox.deadLetter(id: takenOver[0].id, owner: "a", error: "x", now: later) == false)
                #expect(try await inbox.complete(id: takenOver[0].id, owner: "c", now: later) == true)
                #expect(try await inbox.complete(id: takenOver[0].id, owner: "c", now: later) == false)
                #expect(try await inbox.claim(id: takenOver[0].id, owner: "d", leaseDuration: .seconds(30), now: later) == nil)
                // claim(id:) takes an expired lease over too, and not a live one.
                #expect(try await inbox.claim(id: a[2].id, owner: "d", leaseDuration: .seconds(30), now: t0) == nil)
                let single = try #require(try await inbox.claim(id: a[2].id, owner: "d", leaseDuration: .seconds(30), now: later))
                #expect(single.attempts == 2 && single.state == .processing(owner: "d", leaseUntil: later.addingTimeInterval(30)))
                #expect(try await inbox.claim(id: "no-such-event", owner: "d", leaseDuration: .seconds(30), now: later) == nil)
            }
        }

        @Test func failedEventsWaitForTheirRetryAndDeadOnesForAReplay() async throws {
            try await withInbox { inbox in
                let event = try await inbox.record(newEvent(), lease: Lease(owner: "req", duration: .seconds(30)), now: t0).event
                #expect(try await inbox.fail(id: event.id, owner: "req", error: "boom", retryAt: t0.addingTimeInterval(10), now: t0))
                let waiting = try #require(try await inbox.event(id: event.id))
                #expect(waiting.state == .waitingRetry(nextAttemptAt: t0.addingTimeInterval(10)) && waiting.lastError == "boom")
                #expect(try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0.addingTimeInterval(5)).isEmpty)
                let retry = try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0.addingTimeInterval(10))
                #expect(retry.map(\.attempts) == [2])
                #expect(retry.first?.lastError == "boom")
                #expect(try await inbox.deadLetter(id: event.id, owner: "w", error: "boom again", now: t0.addingTimeInterval(11)))
                #expect(try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0.addingTimeInterval(999)).isEmpty)
                let dead = try await inbox.list(.deadLetters)
                #expect(dead.count == 1 && DeadLetter(dead[0])?.error == "boom again")
                #expect(DeadLetter(dead[0])?.diedAt == t0.addingTimeInterval(11))
                let replayed = try #require(try await inbox.replay(id: event.id, now: t0.addingTimeInterval(20)))
                #expect(replayed.state == .pending && replayed.attempts == 0 && replayed.lastError == "boom again")
                #expect(try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0.addingTimeInterval(21)).count == 1)
                // In progress: no replay until the lease runs out.
                #expect(try await inbox.replay(id: event.id, now: t0.addingTimeInterval(22)) == nil)
                #expect(try await inbox.replay(id: event.id, now: t0.addingTimeInterval(52))?.state == .pending)
                #expect(try await inbox.replay(id: "no-such-event", now: t0) == nil)
            }
        }

        @Test func aWaitingEventCanBeClaimedBeforeItsRetryIsDue() async throws {
            try await withInbox { inbox in
                let event = try await inbox.record(newEvent(), lease: Lease(owner: "req", duration: .seconds(30)), now: t0).event
                #expect(try await inbox.fail(id: event.id, owner: "req", error: "boom", retryAt: t0.addingTimeInterval(600), now: t0))
                // A redelivery is a reason to try now.
                let claimed = try await inbox.claim(id: event.id, owner: "req-2", leaseDuration: .seconds(30), now: t0.addingTimeInterval(1))
                #expect(claimed?.attempts == 2)
            }
        }

        @Test func listsAndPurgesByFilter() async throws {
            try await withInbox { inbox in
                for index in 0..<4 { _ = try await inbox.record(newEvent("O-\(index)", at: Double(index)), lease: nil, now: t0) }
                _ = try await inbox.record(newEvent("C-1", status: 1, at: 10, kind: .card, merchantID: 2), lease: nil, now: t0)
                #expect(try await inbox.list(EventFilter(orderNo: "O-2")).map(\.orderNo) == ["O-2"])
                #expect(
                    try await inbox.list(EventFilter(receivedFrom: t0.addingTimeInterval(1), receivedBefore: t0.addingTimeInterval(3)))
                        .map(\.orderNo) == ["O-1", "O-2"])
                #expect(try await inbox.list(EventFilter(kinds: [.card])).map(\.orderNo) == ["C-1"])
                #expect(try await inbox.list(EventFilter(merchantID: 2)).map(\.orderNo) == ["C-1"])
                #expect(try await inbox.list(EventFilter(status: 1)).map(\.orderNo) == ["C-1"])
                #expect(try await inbox.list(EventFilter(states: [.pending], kinds: [.payment], merchantID: 1)).count == 4)
                #expect(try await inbox.list(EventFilter(states: [.dead, .completed])).isEmpty)
                #expect(try await inbox.list(EventFilter(limit: 2)).map(\.orderNo) == ["O-0", "O-1"])
                #expect(try await inbox.list(EventFilter(limit: 0)).isEmpty)
                #expect(try await inbox.purge(EventFilter(orderNo: "O-0")) == 1)
                #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["O-1", "O-2", "O-3", "C-1"])
                // A purged key is new again, and so is its order.
                let again = try await inbox.record(newEvent("O-0", status: 5), lease: nil, now: t0)
                guard case .recorded(let event) = again else {
                    Issue.record("a purged key should be recordable again")
                    return
                }
                #expect(event.previousStatus == nil)
                #expect(try await inbox.purge(EventFilter(kinds: [.payment], limit: 2)) == 2)
                #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["O-3", "C-1", "O-0"])
            }
        }

        @Test func purgeLeavesEventsInProgressAlone() async throws {
            try await withInbox { inbox in
                let now = Date()
                _ = try await inbox.record(newEvent("BUSY"), lease: Lease(owner: "w", duration: .seconds(300)), now: now)
                _ = try await inbox.record(newEvent("IDLE"), lease: nil, now: now)
                #expect(try await inbox.purge(EventFilter()) == 1)
                #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["BUSY"])
            }
        }

        @Test func purgingOneOfAnOrdersEventsKeepsItsLastStatus() async throws {
            try await withInbox { inbox in
                let paid = try await inbox.record(newEvent(status: 5, rank: 1), lease: nil, now: t0).event
                _ = try await inbox.record(newEvent(status: 7, rank: 4), lease: nil, now: t0)
                #expect(try await inbox.purge(EventFilter(status: 5)) == 1)
                #expect(try await inbox.event(id: paid.id) == nil)
                let next = try await inbox.record(newEvent(status: 8, rank: 5), lease: nil, now: t0).event
                #expect(next.previousStatus == 7)
            }
        }

        @Test func pruneDeletesOldCompletedEventsAndKeepsDeadLetters() async throws {
            try await withInbox { inbox in
                let lease = Lease(owner: "w", duration: .seconds(30))
                let done = try await inbox.record(newEvent("DONE"), lease: lease, now: t0).event
                let recent = try await inbox.record(newEvent("RECENT"), lease: lease, now: t0).event
                let dead = try await inbox.record(newEvent("DEAD"), lease: lease, now: t0).event
                _ = try await inbox.record(newEvent("WAITING"), lease: nil, now: t0)
                #expect(try await inbox.complete(id: done.id, owner: "w", now: t0))
                #expect(try await inbox.complete(id: recent.id, owner: "w", now: t0.addingTimeInterval(100)))
                #expect(try await inbox.deadLetter(id: dead.id, owner: "w", error: "x", now: t0))
                #expect(try await inbox.prune(completedBefore: t0) == 0)
                #expect(try await inbox.prune(completedBefore: t0.addingTimeInterval(50)) == 1)
                #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["RECENT", "DEAD", "WAITING"])
                // Its key is free again.
                guard case .recorded = try await inbox.record(newEvent("DONE"), lease: nil, now: t0) else {
                    Issue.record("a pruned key should be recordable again")
                    return
                }
            }
        }

        @Test func prunesInBatchesUntilNothingIsLeft() async throws {
            try await withInbox { inbox in
                let count = 1500
                let lease = Lease(owner: "w", duration: .seconds(30))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            for index in stride(from: worker, to: count, by: 4) {
                                let event = try await inbox.record(newEvent("B-\(index)"), lease: lease, now: t0).event
                                _ = try await inbox.complete(id: event.id, owner: "w", now: t0)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try await inbox.prune(completedBefore: t0.addingTimeInterval(1)) == count)
                #expect(try await inbox.list(EventFilter()).isEmpty)
            }
        }

        @Test func theRetentionSweepDeletesCompletedEventsByItself() async throws {
            try await withInbox(retention: .seconds(1)) { inbox in
                let lease = Lease(owner: "w", duration: .seconds(30))
                let done = try await inbox.record(newEvent("DONE"), lease: lease, now: t0).event
                let dead = try await inbox.record(newEvent("DEAD"), lease: lease, now: t0).event
                #expect(try await inbox.complete(id: done.id, owner: "w", now: t0))
                #expect(try await inbox.deadLetter(id: dead.id, owner: "w", error: "x", now: t0))
                try await eventually("the sweep", timeout: .seconds(15)) {
                    try await inbox.event(id: done.id) == nil
                }
                #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["DEAD"])
            }
        }

        @Test func answersAvailabilityChecks() async throws {
            try await withInbox { inbox in
                try await inbox.checkAvailability()
            }
        }
    }
}

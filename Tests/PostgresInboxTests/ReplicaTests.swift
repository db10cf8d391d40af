import Foundation
import Inbox
import InboxTesting
import PostgresInbox
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks

/// Two inboxes on one database, each with its own pool, both in this test
/// process: they stand in for two replicas of a merchant's server behind a
/// load balancer (the crash drill runs real separate processes).
func withReplicas<Result: Sendable>(
    _ body: (PostgresInbox, PostgresInbox) async throws -> Result
) async throws -> Result {
    let url = try await sharedServer().createDatabase()
    // 30 s per operation, as in withInbox: with the whole suite on two cores,
    // eight concurrent records once took longer than the 5 s default.
    func replica() async throws -> PostgresInbox {
        try await PostgresInbox.connect(
            url: url, poolSize: 4, operationTimeout: .seconds(30), logger: testLogger)
    }
    let a = try await replica()
    let b = try await replica()
    do {
        let result = try await body(a, b)
        await a.shutdown()
        await b.shutdown()
        return result
    } catch {
        await a.shutdown()
        await b.shutdown()
        throw error
    }
}

extension PostgreSQLTests {
    @Suite struct ReplicaTests {
        @Test func replicasRecordingOneKeyAtOnceRecordItOnce() async throws {
            try await withReplicas { a, b in
                for round in 0..<20 {
                    let new = newEvent("RACE-\(round)")
                    let outcomes = try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
                        for replica in [a, b, a, b] {
                            group.addTask { try await replica.record(new, lease: .none, now: t0) }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    let recorded = outcomes.filter { if case .recorded = $0 { true } else { false } }
                    #expect(recorded.count == 1, "round \(round): \(outcomes)")
                    #expect(Set(outcomes.map(\.event.id)).count == 1)
                }
                #expect(try await a.list(EventFilter()).count == 20)
            }
        }

        @Test func replicasRecordingOneOrderAtOnceAgreeOnItsStatuses() async throws {
            try await withReplicas { a, b in
                // Statuses 1…8 of one order, recorded by both replicas at once, in any order.
                let events = try await withThrowingTaskGroup(of: InboxEvent.self) { group in
                    for status in 1...8 {
                        let replica = status.isMultiple(of: 2) ? a : b
                        group.addTask {
                            try await replica.record(newEvent("ORDER", status: status, rank: status), lease: .none, now: t0).event
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                // Each saw the order's status at its turn: the "previous" links
                // form one chain through all eight, in the order they were stored.
                let stored = try await a.list(EventFilter(orderNo: "ORDER"))
                #expect(stored.count == 8)
                var highest: Int?
                for (index, event) in stored.enumerated() {
                    #expect(event.previousStatus == highest, "event \(index): \(event)")
                    #expect(event.isStale == (highest.map { event.status < $0 } ?? false))
                    highest = max(highest ?? event.status, event.status)
                }
                #expect(Set(events.map(\.id)) == Set(stored.map(\.id)))
            }
        }

        @Test func replicasClaimingAtOnceNeverGetTheSameEvent() async throws {
            try await withReplicas { a, b in
                for index in 0..<60 { _ = try await a.record(newEvent("E-\(index)"), lease: .none, now: t0) }
                let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                    for (worker, replica) in [a, b, a, b, a, b].enumerated() {
                        group.addTask {
                            var mine: [String] = []
                            while true {
                                let batch = try await replica.claimDue(
                                    owner: "worker-\(worker)", limit: 3, leaseDuration: .seconds(60), now: t0)
                                if batch.isEmpty { return mine }
                                #expect(batch.allSatisfy { $0.state == .processing(owner: "worker-\(worker)", leaseUntil: t0.addingTimeInterval(60)) })
                                mine += batch.map(\.id)
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let all = claims.flatMap { $0 }
                #expect(all.count == 60)
                #expect(Set(all).count == 60)
                #expect(try await b.list(EventFilter()).allSatisfy { $0.attempts == 1 })
            }
        }

        @Test func aReplicaTakesOverTheLeasesOfOneThatDied() async throws {
            try await withReplicas { a, b in
                for index in 0..<3 { _ = try await a.record(newEvent("L-\(index)"), lease: .none, now: t0) }
                let held = try await a.claimDue(owner: "replica-a", limit: 10, leaseDuration: .seconds(30), now: t0)
                #expect(held.count == 3)
                // While "replica-a" holds them, "replica-b" finds nothing.
                #expect(try await b.claimDue(owner: "replica-b", limit: 10, leaseDuration: .seconds(30), now: t0.addingTimeInterval(29)).isEmpty)
                // "replica-a" died; its leases run out and "replica-b" takes over.
                await a.shutdown()
                let later = t0.addingTimeInterval(30)
                let takenOver = try await b.claimDue(owner: "replica-b", limit: 10, leaseDuration: .seconds(30), now: later)
                #expect(Set(takenOver.map(\.id)) == Set(held.map(\.id)))
                #expect(takenOver.allSatisfy { $0.attempts == 2 })
                for event in takenOver { #expect(try await b.complete(id: event.id, owner: "replica-b", now: later)) }
                #expect(try await b.list(EventFilter(states: [.completed])).count == 3)
            }
        }

        /// A replica restarted under its name releases the leases of its
        /// earlier incarnations, and only those: not another replica's (even
        /// one whose name starts the same), not its own new ones. A second
        /// live holder of the name is refused.
        @Test func aRestartedReplicaReleasesItsEarlierIncarnationsLeasesAndNoOneElses() async throws {
            let url = try await sharedServer().createDatabase()
            func replica() async throws -> PostgresInbox {
                try await PostgresInbox.connect(
                    url: url, poolSize: 4, operationTimeout: .seconds(30), logger: testLogger)
            }
            let first = try await replica()
            let other = try await replica()
            let second = try await replica()
            let one = try await first.holdReplicaName("web-1")
            #expect(one.ownerPrefix == "web-1#1")
            _ = try await other.holdReplicaName("web-10")
            await #expect(throws: ReplicaNameError.self) {
                _ = try await second.holdReplicaName("web-1", patience: .milliseconds(300))
            }
            for order in ["OLD", "OTHER", "NEW"] { _ = try await first.record(newEvent(order), lease: .none, now: t0) }
            let old = try #require(try await first.claimDue(owner: "web-1#1/worker-0", limit: 1, leaseDuration: .seconds(30), now: t0).first)
            let others = try #require(try await other.claimDue(owner: "web-10#1/worker-0", limit: 1, leaseDuration: .seconds(30), now: t0).first)
            // web-1#1 dies: its session, and so the name, goes with it.
            await first.shutdown()
            let two = try await second.holdReplicaName("web-1", patience: .seconds(60))  // first's session may take a while to end on a loaded machine
            #expect(two.ownerPrefix == "web-1#2")
            let own = try #require(try await second.claimDue(owner: "web-1#2/worker-0", limit: 1, leaseDuration: .seconds(30), now: t0).first)
            #expect([old.orderNo, others.orderNo, own.orderNo] == ["OLD", "OTHER", "NEW"])
            let now = t0.addingTimeInterval(1)
            #expect(try await second.releaseEarlierIncarnations(of: two, now: now) == 1)
            let retaken = try await second.claimDue(owner: "web-1#2/worker-1", limit: 10, leaseDuration: .seconds(30), now: now)
            #expect(retaken.map(\.orderNo) == ["OLD"], "only web-1#1's claim was released, within the lease")
            #expect(retaken.first?.attempts == 2)
            await other.shutdown()
            await second.shutdown()
        }
    }
}

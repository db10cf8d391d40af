import Foundation
import Inbox

/// The requirements on ``EventHistory``: what an operator is shown of an
/// event's attempts and conflicts.
extension ContractRun {
    func attempt(
        _ number: Int, from start: Double, to end: Double, _ outcome: HandlerAttempt.Outcome, _ error: String? = nil
    ) -> HandlerAttempt {
        HandlerAttempt(number: number, startedAt: at(start), endedAt: at(end), outcome: outcome, error: error)
    }

    func keepsEachAttemptWithItsOutcome() async throws {
        let event = try await recordNew(newEvent(), lease: .always(Lease(owner: "a", duration: lease)))
        try expect(try await store.history(id: event.id) == EventHistory(), "a new event has no history")
        let first = attempt(1, from: 0.25, to: 1, .failed, "handler threw: no stock for order O-1")
        try expect(try await store.fail(id: event.id, owner: "a", attempt: first, retryAt: at(5)), "a fails attempt 1")
        let failed = try await store.event(id: event.id)
        try expect(failed?.lastError == first.error && failed?.state == .waitingRetry(nextAttemptAt: at(5)),
                   "the failure is the last error, as before; got \(String(describing: failed))")
        try expect(try await store.history(id: event.id).attempts == [first],
                   "attempt 1 is kept with its times, outcome and error")

        // b's lease runs out while its handlers run; c takes the event over.
        let retried = try await store.claimDue(owner: "b", limit: 5, leaseDuration: .seconds(1), now: at(5))
        try expect(retried.map(\.attempts) == [2], "due again as attempt 2; got \(retried)")
        let takenOver = try await store.claim(id: event.id, owner: "c", leaseDuration: lease, now: at(7))
        try expect(takenOver?.attempts == 3, "c takes over the abandoned event as attempt 3")
        let late = attempt(2, from: 5, to: 8, .timedOut, "handlers did not finish within 1.0 seconds")
        try expect(try await !store.fail(id: event.id, owner: "b", attempt: late, retryAt: at(20)),
                   "b no longer holds the lease")
        try expect(try await store.event(id: event.id) == takenOver, "b's result changes nothing")
        let third = attempt(3, from: 7, to: 9, .handled)
        try expect(try await store.complete(id: event.id, owner: "c", attempt: third), "c completes it")
        let done = try await store.event(id: event.id)
        try expect(done?.state == .completed(at: at(9)) && done?.lastError == first.error,
                   "completed at the attempt's end, the last error kept; got \(String(describing: done))")

        var lost = late
        lost.outcome = .leaseLost
        let history = try await store.history(id: event.id)
        try expect(history.attempts == [first, lost, third],
                   "every attempt in order, b's as lease-lost with its error; got \(history.attempts)")
        try expect(history.conflictingCopies.isEmpty, "no conflict, no copy")

        _ = try await store.replay(id: event.id, now: at(10))
        try expect(try await store.history(id: event.id).attempts.count == 3, "a replay keeps the history")
        try expect(try await store.history(id: NewInboxEvent.makeID()) == EventHistory(), "an unknown id has none")
        try expect(try await !store.complete(id: NewInboxEvent.makeID(), owner: "c", attempt: third),
                   "an unknown id finishes nothing")
    }

    func keepsTheLastAttemptsOnly() async throws {
        let kept = EventHistory.attemptsKept
        let event = try await recordNew(newEvent())
        // Results of workers that lost their leases: kept, changing nothing.
        for number in 1...kept + 4 {
            let late = attempt(number, from: Double(number), to: Double(number) + 0.5, .failed, "attempt \(number)")
            try expect(try await !store.fail(id: event.id, owner: "gone", attempt: late, retryAt: at(999)),
                       "an unclaimed event has no holder")
        }
        let claimed = try await store.claim(id: event.id, owner: "w", leaseDuration: lease, now: at(100))
        try expect(claimed?.attempts == 1, "claimed as attempt 1")
        let last = attempt(kept + 5, from: 100, to: 101, .handled)
        try expect(try await store.complete(id: event.id, owner: "w", attempt: last), "w completes it")
        let attempts = try await store.history(id: event.id).attempts
        try expect(attempts.count == kept, "\(kept) attempts kept; got \(attempts.count)")
        try expect(attempts.first?.number == 6 && attempts.first?.outcome == .leaseLost && attempts.last == last,
                   "the oldest dropped, the last kept; got \(attempts.first.map(String.init(describing:)) ?? "none") "
                       + "… \(attempts.last.map(String.init(describing:)) ?? "none")")
        try expect(try await store.event(id: event.id)?.attempts == 1, "the claim count is the store's own, unchanged")
    }

    func keepsTheFirstConflictingCopies() async throws {
        let event = try await recordNew(newEvent(body: Array(#"{"order_no":"O-1","amount":"10.00"}"#.utf8)))
        let changed = Array(#"{"order_no":"O-1","amount":"12.00","card_no":"4111111111111111"}"#.utf8)
        _ = try await store.record(newEvent(hash: "h2", body: changed, at: 3), lease: .none, now: at(3))
        _ = try await store.record(newEvent(hash: "h2", body: changed, at: 4), lease: .none, now: at(4))
        _ = try await store.record(newEvent(body: Array("duplicate".utf8), at: 5), lease: .none, now: at(5))
        var history = try await store.history(id: event.id)
        try expect(history.conflictingCopies == [ConflictingCopy(contentHash: "h2", rawBody: changed, receivedAt: at(3))],
                   "the conflicting copy is kept once, as it first arrived; a duplicate is not a copy; got "
                       + "\(history.conflictingCopies)")
        let kept = EventHistory.copiesKept
        for index in 3...kept + 3 {
            _ = try await store.record(newEvent(hash: "h\(index)", at: Double(index + 3)), lease: .none, now: at(10))
        }
        history = try await store.history(id: event.id)
        try expect(history.conflictingCopies.map(\.contentHash) == (2...kept + 1).map { "h\($0)" },
                   "the first \(kept) distinct copies are kept; got \(history.conflictingCopies)")
        let stored = try await store.event(id: event.id)
        try expect(stored?.conflicts == kept + 3, "every conflict is counted; got \(String(describing: stored))")
        try expect(stored?.contentHash == "h1" && stored?.rawBody == event.rawBody, "the stored event is unchanged")
    }

    func historyGoesWithItsEvent() async throws {
        let holder = Lease(owner: "w", duration: lease)
        let purged = try await recordNew(newEvent("PURGED"), lease: .always(holder))
        let pruned = try await recordNew(newEvent("PRUNED", at: 1), lease: .always(holder))
        for event in [purged, pruned] {
            _ = try await store.record(newEvent(event.orderNo, hash: "other", at: 2), lease: .none, now: at(2))
            try expect(try await store.complete(id: event.id, owner: "w", attempt: attempt(1, from: 2, to: 3, .handled)),
                       "w completes \(event.orderNo)")
            let history = try await store.history(id: event.id)
            try expect(history.attempts.count == 1 && history.conflictingCopies.count == 1,
                       "\(event.orderNo) has an attempt and a copy; got \(history)")
        }
        try expect(try await store.purge(EventFilter(orderNo: "PURGED")) == 1, "purges PURGED")
        try expect(try await store.history(id: purged.id) == EventHistory(), "its history is gone with it")
        try expect(try await store.prune(completedBefore: at(999_999)) == 1, "prunes PRUNED")
        try expect(try await store.history(id: pruned.id) == EventHistory(), "its history is gone with it")
    }
}

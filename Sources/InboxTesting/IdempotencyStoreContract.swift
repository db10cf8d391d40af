import Foundation
import Inbox

/// What the pipeline relies on from every ``IdempotencyStore``: the
/// behaviour of `MemoryInbox`, one requirement at a time. Run it against a
/// store of your own before trusting it with callbacks. The checks read
/// events back with ``InboxAdministration``, so the store implements both.
///
/// Each requirement expects an empty store of its own, and throws a
/// ``ContractViolation`` at the first expectation that does not hold, so it
/// runs under Swift Testing and XCTest alike.
///
/// ```swift
/// @Test(arguments: IdempotencyStoreContract.Requirement.allCases)
/// func keepsTheStoreContract(_ requirement: IdempotencyStoreContract.Requirement) async throws {
///     let store = try await LedgerInbox.open(temporaryDatabase())
///     try await IdempotencyStoreContract().verify(requirement, on: store)
/// }
/// ```
///
/// Times are whole milliseconds, so stores that keep milliseconds pass;
/// `purge` compares leases with the real clock, so the requirements record
/// at about the current time.
public struct IdempotencyStoreContract: Sendable {
    public enum Requirement: String, Sendable, CaseIterable, CustomStringConvertible {
        case recordsEachKeyOnce
        case comparesKeysByteForByte
        case aLeaseOnRecordClaimsTheNewEvent
        case aConditionalLeaseClaimsOnlyTheFirstOfAnOrder
        case aConditionallyLeasedEventHoldsItsOrder
        case tracksTheLastStatusPerOrder
        case keepsEveryFieldAsRecorded
        case claimsAreExclusiveAndLeasesExpire
        case claimTakesPendingWaitingOrAbandonedEvents
        case claimsOneEventPerOrderInOrderOfReceipt
        case onlyTheLeaseHolderFinishesAnAttempt
        case failedEventsWaitForTheirRetry
        case deadLettersWaitForAReplay
        case listsByEveryFilterOldestFirst
        case pagesNewestFirstAndCounts
        case purgesByFilterButNotEventsInProgress
        case purgingForgetsAnOrdersStatusWithItsLastEvent
        case prunesCompletedEventsAndKeepsDeadLetters
        case concurrentRecordsOfOneKeyRecordOnce
        case concurrentClaimsNeverShareAnEvent
        case concurrentClaimsTakeOneEventPerOrder
        case answersWhenAvailable
        case keepsEachAttemptWithItsOutcome
        case keepsTheLastAttemptsOnly
        case keepsTheFirstConflictingCopies
        case historyGoesWithItsEvent
        case matchesReconciledEventsWithCallbacks
        case choosesTheOrdersToReconcile
        case queryLeasesAreExclusiveUntilTheyExpire

        public var description: String {
            switch self {
            case .matchesReconciledEventsWithCallbacks:
                "an order-query event and a callback of one order and status are one event, whichever comes first"
            case .choosesTheOrdersToReconcile:
                "chooses orders stuck in a status that is not final, and expected orders without events (ReconciliationStore)"
            case .queryLeasesAreExclusiveUntilTheyExpire:
                "one holder of an order's query lease at a time, until it expires (ReconciliationStore)"
            case .recordsEachKeyOnce:
                "records once per key and tells duplicates (same hash) from conflicts (counted)"
            case .comparesKeysByteForByte:
                "keys and orders that differ in their bytes are different, even when Unicode calls them equivalent"
            case .aLeaseOnRecordClaimsTheNewEvent:
                "a lease given to record holds the new event as attempt 1; a repeat changes nothing"
            case .aConditionalLeaseClaimsOnlyTheFirstOfAnOrder:
                "a lease if first of its order holds a new event only when no earlier one of its order is unfinished; repeats never lease"
            case .aConditionallyLeasedEventHoldsItsOrder:
                "an event leased on record is not due until its lease ends, and holds its order's later events until it completes"
            case .tracksTheLastStatusPerOrder:
                "tracks the last status per order and flags events that move it backwards as stale"
            case .keepsEveryFieldAsRecorded:
                "keeps the raw body and every field exactly as recorded"
            case .claimsAreExclusiveAndLeasesExpire:
                "claimDue hands each event to one owner, oldest first, until its lease expires"
            case .claimTakesPendingWaitingOrAbandonedEvents:
                "claim takes a pending, waiting or abandoned event, never a live, completed or dead one"
            case .claimsOneEventPerOrderInOrderOfReceipt:
                "claimDue holds an order's later events until its earlier ones complete or die"
            case .onlyTheLeaseHolderFinishesAnAttempt:
                "complete, fail and dead-letter take effect only for the lease holder"
            case .failedEventsWaitForTheirRetry:
                "a failed event is claimable again from its retry time, with its error"
            case .deadLettersWaitForAReplay:
                "a dead letter stays until replayed, and a replay starts it afresh"
            case .listsByEveryFilterOldestFirst:
                "lists by every filter criterion, oldest first, up to the limit"
            case .pagesNewestFirstAndCounts:
                "lists newest first from an offset, and counts matching events whatever the limit"
            case .purgesByFilterButNotEventsInProgress:
                "purges matching events except those in progress, and forgets their keys"
            case .purgingForgetsAnOrdersStatusWithItsLastEvent:
                "purging keeps an order's last status while any of its events is left, and forgets it with the last"
            case .prunesCompletedEventsAndKeepsDeadLetters:
                "prunes events completed before a date and keeps dead letters"
            case .concurrentRecordsOfOneKeyRecordOnce:
                "a hundred concurrent records of one key record it once"
            case .concurrentClaimsNeverShareAnEvent:
                "concurrent claims never hand out the same event twice"
            case .concurrentClaimsTakeOneEventPerOrder:
                "concurrent claims take the first event of each order and no other"
            case .answersWhenAvailable:
                "answers checkAvailability, and nil for unknown ids"
            case .keepsEachAttemptWithItsOutcome:
                "keeps each finished attempt with its times, outcome and error, as lease-lost for a former holder"
            case .keepsTheLastAttemptsOnly:
                "keeps the last \(EventHistory.attemptsKept) attempts of an event, the attempt count exact"
            case .keepsTheFirstConflictingCopies:
                "keeps the first \(EventHistory.copiesKept) conflicting copies with distinct content, as they arrived"
            case .historyGoesWithItsEvent:
                "purge and prune delete an event's attempts and copies with it"
            }
        }
    }

    public init() {}

    /// Checks `requirement` on `store`, which must be empty.
    public func verify(_ requirement: Requirement, on store: any InboxAdministration) async throws {
        let run = ContractRun(requirement: requirement, store: store)
        switch requirement {
        case .recordsEachKeyOnce: try await run.recordsEachKeyOnce()
        case .comparesKeysByteForByte: try await run.comparesKeysByteForByte()
        case .aLeaseOnRecordClaimsTheNewEvent: try await run.aLeaseOnRecordClaimsTheNewEvent()
        case .aConditionalLeaseClaimsOnlyTheFirstOfAnOrder: try await run.aConditionalLeaseClaimsOnlyTheFirstOfAnOrder()
        case .aConditionallyLeasedEventHoldsItsOrder: try await run.aConditionallyLeasedEventHoldsItsOrder()
        case .tracksTheLastStatusPerOrder: try await run.tracksTheLastStatusPerOrder()
        case .keepsEveryFieldAsRecorded: try await run.keepsEveryFieldAsRecorded()
        case .claimsAreExclusiveAndLeasesExpire: try await run.claimsAreExclusiveAndLeasesExpire()
        case .claimTakesPendingWaitingOrAbandonedEvents: try await run.claimTakesPendingWaitingOrAbandonedEvents()
        case .claimsOneEventPerOrderInOrderOfReceipt: try await run.claimsOneEventPerOrderInOrderOfReceipt()
        case .onlyTheLeaseHolderFinishesAnAttempt: try await run.onlyTheLeaseHolderFinishesAnAttempt()
        case .failedEventsWaitForTheirRetry: try await run.failedEventsWaitForTheirRetry()
        case .deadLettersWaitForAReplay: try await run.deadLettersWaitForAReplay()
        case .listsByEveryFilterOldestFirst: try await run.listsByEveryFilterOldestFirst()
        case .pagesNewestFirstAndCounts: try await run.pagesNewestFirstAndCounts()
        case .purgesByFilterButNotEventsInProgress: try await run.purgesByFilterButNotEventsInProgress()
        case .purgingForgetsAnOrdersStatusWithItsLastEvent: try await run.purgingForgetsAnOrdersStatusWithItsLastEvent()
        case .prunesCompletedEventsAndKeepsDeadLetters: try await run.prunesCompletedEventsAndKeepsDeadLetters()
        case .concurrentRecordsOfOneKeyRecordOnce: try await run.concurrentRecordsOfOneKeyRecordOnce()
        case .concurrentClaimsNeverShareAnEvent: try await run.concurrentClaimsNeverShareAnEvent()
        case .concurrentClaimsTakeOneEventPerOrder: try await run.concurrentClaimsTakeOneEventPerOrder()
        case .answersWhenAvailable: try await run.answersWhenAvailable()
        case .keepsEachAttemptWithItsOutcome: try await run.keepsEachAttemptWithItsOutcome()
        case .keepsTheLastAttemptsOnly: try await run.keepsTheLastAttemptsOnly()
        case .keepsTheFirstConflictingCopies: try await run.keepsTheFirstConflictingCopies()
        case .historyGoesWithItsEvent: try await run.historyGoesWithItsEvent()
        case .matchesReconciledEventsWithCallbacks: try await run.matchesReconciledEventsWithCallbacks()
        case .choosesTheOrdersToReconcile: try await run.choosesTheOrdersToReconcile()
        case .queryLeasesAreExclusiveUntilTheyExpire: try await run.queryLeasesAreExclusiveUntilTheyExpire()
        }
    }

    /// Checks every requirement, each on a fresh store from `makeStore`;
    /// `discard` is called with each store afterwards (to close it).
    public func verifyAll<Store: InboxAdministration>(
        makeStore: () async throws -> Store, discard: (Store) async -> Void = { _ in }
    ) async throws {
        for requirement in Requirement.allCases {
            let store = try await makeStore()
            do {
                try await verify(requirement, on: store)
            } catch {
                await discard(store)
                throw error
            }
            await discard(store)
        }
    }
}

/// A store did not behave as ``IdempotencyStoreContract`` requires.
public struct ContractViolation: Error, CustomStringConvertible {
    public let requirement: IdempotencyStoreContract.Requirement
    /// What was expected, and what the store did instead.
    public let expectation: String
    /// The file of the contract (`IdempotencyStoreContract.swift`, or
    /// `IdempotencyStoreContract+History.swift`) and the line that checks it.
    public let file: String
    public let line: Int

    public init(requirement: IdempotencyStoreContract.Requirement, expectation: String, file: String, line: Int) {
        self.requirement = requirement
        self.expectation = expectation
        self.file = file
        self.line = line
    }

    public var description: String {
        "the store breaks \"\(requirement)\": \(expectation) (\(file.split(separator: "/").last ?? "?"):\(line))"
    }
}

/// One requirement checked against one store.
struct ContractRun {
    let requirement: IdempotencyStoreContract.Requirement
    let store: any InboxAdministration
    /// When `newEvent` receives events: about now, in whole seconds.
    let t0 = NewInboxEvent.testEpoch
    let lease: Duration = .seconds(30)

    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    func expect(
        _ condition: Bool, _ expectation: @autoclosure () -> String, file: String = #fileID, line: Int = #line
    ) throws {
        guard condition else {
            throw ContractViolation(requirement: requirement, expectation: expectation(), file: file, line: line)
        }
    }

    func violation(_ expectation: String, file: String = #fileID, line: Int = #line) -> ContractViolation {
        ContractViolation(requirement: requirement, expectation: expectation, file: file, line: line)
    }

    /// Records `event`, which must be new.
    @discardableResult
    func recordNew(_ event: NewInboxEvent, lease: LeaseRequest = .none, now: Date? = nil, line: Int = #line) async throws -> InboxEvent {
        let outcome = try await store.record(event, lease: lease, now: now ?? t0)
        guard case .recorded(let recorded) = outcome else {
            throw violation("\(event.orderNo) status \(event.status) is a new key, so .recorded; got \(outcome)", line: line)
        }
        return recorded
    }

    func orderNos(_ filter: EventFilter) async throws -> [String] {
        try await store.list(filter).map(\.orderNo)
    }

    // MARK: recording

    func recordsEachKeyOnce() async throws {
        let new = newEvent()
        let recorded = try await recordNew(new)
        try expect(recorded.id == new.id, "the recorded event keeps the id it was given")
        try expect(recorded.state == .pending && recorded.attempts == 0 && recorded.conflicts == 0,
                   "a new event without a lease is pending, 0 attempts, 0 conflicts; got \(recorded)")
        let again = try await store.record(newEvent(), lease: .none, now: at(1))
        try expect(again == .duplicate(recorded), "the same key and hash is .duplicate of the stored event; got \(again)")
        let other = try await store.record(newEvent(hash: "h2"), lease: .none, now: at(2))
        guard case .conflict(let conflicted) = other else { throw violation("another hash is .conflict; got \(other)") }
        try expect(conflicted.id == recorded.id && conflicted.contentHash == "h1",
                   "a conflict returns the stored event, its hash unchanged; got \(conflicted)")
        try expect(conflicted.conflicts == 1, "the first conflict counts 1; got \(conflicted.conflicts)")
        let third = try await store.record(newEvent(hash: "h3"), lease: .none, now: at(3))
        try expect(third.event.conflicts == 2, "a second conflict counts 2; got \(third)")
        let duplicate = try await store.record(newEvent(), lease: .none, now: at(4))
        guard case .duplicate(let current) = duplicate else { throw violation("the first hash is still a duplicate; got \(duplicate)") }
        try expect(current.conflicts == 2 && current.state == .pending, "a duplicate changes nothing; got \(current)")
        let stored = try await store.event(id: recorded.id)
        try expect(stored?.conflicts == 2, "the conflict count is stored; got \(String(describing: stored))")
        try expect(try await store.list(EventFilter()).count == 1, "one key, one stored event")
    }

    /// "é" as one code point and as "e" + a combining accent: the same text to
    /// Swift's `String ==`, two order numbers to TrustPay and to a database.
    func comparesKeysByteForByte() async throws {
        let composed = try await recordNew(newEvent("CAF\u{E9}"))
        let decomposed = try await store.record(newEvent("CAFe\u{301}"), lease: .none, now: at(1))
        guard case .recorded(let second) = decomposed else {
            throw violation("a decomposed order number is another key, so .recorded; got \(decomposed)")
        }
        try expect(second.id != composed.id, "two events")
        try expect(second.previousStatus == nil, "and two orders: the second has no previous status; got \(second)")
        try expect(try await store.list(EventFilter()).count == 2, "two stored events")
    }

    func aLeaseOnRecordClaimsTheNewEvent() async throws {
        let recorded = try await recordNew(newEvent(), lease: .always(Lease(owner: "request-1", duration: lease)))
        try expect(recorded.state == .processing(owner: "request-1", leaseUntil: at(30)) && recorded.attempts == 1,
                   "recorded with a lease: processing by its owner until now + duration, attempt 1; got \(recorded)")
        let due = try await store.claimDue(owner: "worker", limit: 10, leaseDuration: lease, now: at(1))
        try expect(due.isEmpty, "an event under a live lease is not due; got \(due)")
        let repeated = try await store.record(newEvent(), lease: .always(Lease(owner: "request-2", duration: lease)), now: at(2))
        try expect(repeated == .duplicate(recorded), "a repeat with a lease of its own is a duplicate, unchanged; got \(repeated)")
    }

    func tracksTheLastStatusPerOrder() async throws {
        let refunded = try await recordNew(newEvent(status: 7, rank: 4))
        try expect(refunded.previousStatus == nil && !refunded.isStale, "the first event of an order has no previous status")
        let late = try await recordNew(newEvent(status: 5, rank: 1))
        try expect(late.previousStatus == 7 && late.isStale, "a lower rank is stale; got \(late)")
        _ = try await store.record(newEvent(status: 5, rank: 1, hash: "h2"), lease: .none, now: t0)
        let unranked = try await recordNew(newEvent(status: 42, rank: nil))
        try expect(unranked.previousStatus == 7 && !unranked.isStale,
                   "a stale event (or its conflict) does not advance the last status; an unranked one is never stale; got \(unranked)")
        let next = try await recordNew(newEvent(status: 8, rank: 3))
        try expect(next.previousStatus == 42 && next.isStale,
                   "an unranked status advances the last status but keeps the last rank (4); got \(next)")
        let refunding = try await recordNew(newEvent(status: 9, rank: 3))
        try expect(refunding.previousStatus == 42 && refunding.isStale, "still behind rank 4; got \(refunding)")
        let otherOrder = try await recordNew(newEvent("O-2", status: 5, rank: 1))
        try expect(otherOrder.previousStatus == nil && !otherOrder.isStale, "orders are tracked separately")
        let forward = try await recordNew(newEvent("O-2", status: 6, rank: 2))
        try expect(forward.previousStatus == 5 && !forward.isStale, "a higher rank is not stale; got \(forward)")
        let repeated = try await store.record(newEvent("O-2", status: 5, rank: 1), lease: .none, now: at(1))
        try expect(repeated.event.id == otherOrder.id, "a repeat of O-2's first event is that event; got \(repeated)")
        let equal = try await recordNew(newEvent("O-2", status: 2, rank: 2))
        try expect(equal.previousStatus == 6 && !equal.isStale,
                   "an equal rank is not stale, and a repeat does not move the last status back; got \(equal)")
    }

    func keepsEveryFieldAsRecorded() async throws {
        let card = NewInboxEvent(
            key: IdempotencyKey(rawValue: #"["card",8820250900009,"recharge","订单/№ 7 \"x\" 'y'",0]"#),
            contentHash: "0123456789abcdef0123456789abcdef", kind: .card, merchantID: 8_820_250_900_009, orderType: nil,
            orderNo: "订单/№ 7 \"x\" 'y'", status: 0,
            order: OrderReference(rawValue: #"["card",8820250900009,"recharge","订单/№ 7 \"x\" 'y'"]"#), statusRank: nil,
            rawBody: (0...255).map { UInt8($0) } + [0, 0], receivedAt: at(0.25))
        let payment = NewInboxEvent(
            key: IdempotencyKey(rawValue: "payout-key"), contentHash: "h", kind: .payment, merchantID: Int64.max,
            orderType: 1, orderNo: "", status: -3, order: OrderReference(rawValue: "payout-order"), statusRank: -1,
            rawBody: Array(repeating: 0x7B, count: 70_000), receivedAt: at(86_400.125))
        for new in [card, payment] {
            let recorded = try await recordNew(new)
            let expected = InboxEvent(
                id: new.id, key: new.key, contentHash: new.contentHash, kind: new.kind, merchantID: new.merchantID,
                orderType: new.orderType, orderNo: new.orderNo, status: new.status, order: new.order,
                previousStatus: nil, isStale: false, rawBody: new.rawBody, receivedAt: new.receivedAt)
            try expect(recorded == expected, "record returns every field as given; got \(recorded)")
            let stored = try await store.event(id: new.id)
            try expect(stored == expected, "event(id:) returns every field as recorded; got \(String(describing: stored))")
        }
        let listed = try await store.list(EventFilter())
        try expect(listed.map(\.rawBody) == [card.rawBody, payment.rawBody], "list returns the raw bodies byte for byte")
        let claimed = try await store.claimDue(owner: "w", limit: 5, leaseDuration: lease, now: t0)
        try expect(claimed.map(\.rawBody) == [card.rawBody, payment.rawBody] && claimed.map(\.orderNo) == ["订单/№ 7 \"x\" 'y'", ""],
                   "claimDue returns the raw bodies and fields, oldest first")
    }

    // MARK: leases

    func claimsAreExclusiveAndLeasesExpire() async throws {
        for index in 0..<5 { try await recordNew(newEvent("O-\(index)", at: Double(index))) }
        let a = try await store.claimDue(owner: "a", limit: 3, leaseDuration: lease, now: t0)
        let b = try await store.claimDue(owner: "b", limit: 3, leaseDuration: lease, now: t0)
        try expect(a.map(\.orderNo) == ["O-0", "O-1", "O-2"], "the oldest three go to the first claimer; got \(a.map(\.orderNo))")
        try expect(b.map(\.orderNo) == ["O-3", "O-4"], "the rest go to the second; got \(b.map(\.orderNo))")
        try expect(a.allSatisfy { $0.attempts == 1 && $0.state == .processing(owner: "a", leaseUntil: at(30)) },
                   "claimed events are attempt 1, processing by their owner until now + lease; got \(a)")
        let none = try await store.claimDue(owner: "c", limit: 10, leaseDuration: lease, now: at(29.999))
        try expect(none.isEmpty, "nothing is due while leases are live; got \(none)")
        let empty = try await store.claimDue(owner: "c", limit: 0, leaseDuration: lease, now: at(31))
        try expect(empty.isEmpty, "a limit of 0 claims nothing")
        // "a" crashed: from the end of its lease, "c" takes its events over.
        let takenOver = try await store.claimDue(owner: "c", limit: 2, leaseDuration: lease, now: at(30))
        try expect(takenOver.map(\.orderNo) == ["O-0", "O-1"], "expired leases are claimable again, oldest first; got \(takenOver)")
        try expect(takenOver.allSatisfy { $0.attempts == 2 }, "a takeover is attempt 2")
        try expect(try await !store.complete(id: takenOver[0].id, owner: "a", now: at(31)),
                   "the old owner can no longer complete a taken-over event")
        try expect(try await !store.fail(id: takenOver[0].id, owner: "a", error: "x", retryAt: at(40), now: at(31)),
                   "nor fail it")
        try expect(try await !store.deadLetter(id: takenOver[0].id, owner: "a", error: "x", now: at(31)),
                   "nor dead-letter it")
        try expect(try await store.complete(id: takenOver[0].id, owner: "c", now: at(31)), "the new owner can")
        let again = try await store.claim(id: takenOver[0].id, owner: "d", leaseDuration: lease, now: at(31))
        try expect(again == nil, "a completed event is not claimable; got \(String(describing: again))")
    }

    func claimTakesPendingWaitingOrAbandonedEvents() async throws {
        let event = try await recordNew(newEvent())
        let first = try await store.claim(id: event.id, owner: "a", leaseDuration: lease, now: t0)
        try expect(first?.state == .processing(owner: "a", leaseUntil: at(30)) && first?.attempts == 1,
                   "claim takes a pending event as attempt 1; got \(String(describing: first))")
        let live = try await store.claim(id: event.id, owner: "b", leaseDuration: lease, now: at(10))
        try expect(live == nil, "not under someone's live lease; got \(String(describing: live))")
        let abandoned = try await store.claim(id: event.id, owner: "b", leaseDuration: lease, now: at(30))
        try expect(abandoned?.attempts == 2 && abandoned?.state == .processing(owner: "b", leaseUntil: at(60)),
                   "an expired lease is taken over as attempt 2; got \(String(describing: abandoned))")
        try expect(try await store.fail(id: event.id, owner: "b", error: "down", retryAt: at(1000), now: at(31)), "b fails it")
        let early = try await store.claim(id: event.id, owner: "c", leaseDuration: lease, now: at(40))
        try expect(early?.attempts == 3 && early?.lastError == "down",
                   "a waiting event is claimable before its retry time (a redelivery); got \(String(describing: early))")
        try expect(try await store.complete(id: event.id, owner: "c", now: at(41)), "c completes it")
        let completed = try await store.claim(id: event.id, owner: "d", leaseDuration: lease, now: at(42))
        try expect(completed == nil, "a completed event is not claimable")
        let doomed = try await recordNew(newEvent("DEAD"), lease: .always(Lease(owner: "a", duration: lease)))
        try expect(try await store.deadLetter(id: doomed.id, owner: "a", error: "x", now: at(1)), "a dead-letters it")
        let dead = try await store.claim(id: doomed.id, owner: "d", leaseDuration: lease, now: at(2))
        try expect(dead == nil, "a dead letter is not claimable")
        let unknown = try await store.claim(id: NewInboxEvent.makeID(), owner: "d", leaseDuration: lease, now: at(2))
        try expect(unknown == nil, "an unknown id claims nothing")
    }

    func claimsOneEventPerOrderInOrderOfReceipt() async throws {
        // Order A is paid, then refunded twice; order B's event comes between.
        let a1 = try await recordNew(newEvent("A", status: 5, rank: 1))
        let b1 = try await recordNew(newEvent("B", status: 5, rank: 1, at: 1))
        let a2 = try await recordNew(newEvent("A", status: 8, rank: 2, at: 2))
        let a3 = try await recordNew(newEvent("A", status: 7, rank: 3, at: 3))
        func claimed(_ owner: String, at seconds: Double) async throws -> [String] {
            try await store.claimDue(owner: owner, limit: 10, leaseDuration: lease, now: at(seconds)).map(\.id)
        }
        let first = try await claimed("w", at: 0)
        try expect(first == [a1.id, b1.id], "only the oldest event of each order; got \(first)")
        try expect(try await store.complete(id: b1.id, owner: "w", now: at(1)), "w completes B's event")
        try expect(try await claimed("v", at: 1).isEmpty, "A's second event waits while its first is in progress")
        try expect(try await store.fail(id: a1.id, owner: "w", error: "down", retryAt: at(10), now: at(2)), "w fails A's first")
        try expect(try await claimed("v", at: 5).isEmpty, "while it waits for its retry, A's later events wait too")
        try expect(try await claimed("v", at: 10) == [a1.id], "the retry comes first when due")
        // v dies: its lease ends at 40, and the abandoned event still goes first.
        try expect(try await claimed("x", at: 40) == [a1.id], "an abandoned event is taken over before later ones of its order")
        try expect(try await store.deadLetter(id: a1.id, owner: "x", error: "gone", now: at(41)), "x dead-letters it")
        try expect(try await claimed("x", at: 42) == [a2.id], "a dead letter no longer holds its order back")
        try expect(try await claimed("y", at: 43).isEmpty, "A's third waits for its second")
        try expect(try await store.complete(id: a2.id, owner: "x", now: at(44)), "x completes A's second")
        try expect(try await claimed("y", at: 45) == [a3.id], "then A's third is due")
        // A replayed dead letter runs at once; an event arriving now waits for both.
        try expect(try await store.replay(id: a1.id, now: at(46)) != nil, "A's dead first is replayed")
        let a4 = try await recordNew(newEvent("A", status: 9, rank: 4, at: 47))
        try expect(try await claimed("y", at: 48) == [a1.id], "the replayed event runs, A's fourth waits")
        try expect(try await store.complete(id: a3.id, owner: "y", now: at(49)), "y completes A's third")
        try expect(try await claimed("z", at: 50).isEmpty, "A's fourth still waits for the replayed event")
        try expect(try await store.complete(id: a1.id, owner: "y", now: at(51)), "y completes the replayed event")
        try expect(try await claimed("z", at: 52) == [a4.id], "then A's fourth is due")
        // Purging an order's first event lets its next one go.
        let c1 = try await recordNew(newEvent("C", status: 5, rank: 1, at: 53))
        let c2 = try await recordNew(newEvent("C", status: 7, rank: 2, at: 54))
        try expect(try await store.fail(id: a4.id, owner: "z", error: "x", retryAt: at(999), now: at(55)), "z fails A's fourth")
        try expect(try await claimed("z", at: 56) == [c1.id], "C's first is due, its second waits")
        try expect(try await store.fail(id: c1.id, owner: "z", error: "x", retryAt: at(999), now: at(57)), "z fails C's first")
        try expect(try await store.purge(EventFilter(orderNo: "C", status: 5)) == 1, "C's first is purged")
        try expect(try await claimed("z", at: 58) == [c2.id], "C's second is due once its first is gone")
        // An event finished before a later one of its order came, then
        // replayed ahead of it: its completion lets the later one go.
        let d1 = try await recordNew(newEvent("D", status: 5, rank: 1, at: 59), lease: .always(Lease(owner: "z", duration: lease)))
        try expect(try await store.complete(id: d1.id, owner: "z", now: at(60)), "z completes D's first")
        let d2 = try await recordNew(newEvent("D", status: 7, rank: 2, at: 61))
        try expect(try await store.replay(id: d1.id, now: at(62)) != nil, "D's first is replayed")
        try expect(try await claimed("z", at: 63) == [d1.id], "the replayed first runs, D's second waits behind it")
        try expect(try await store.complete(id: d1.id, owner: "z", now: at(64)), "z completes the replayed first")
        try expect(try await claimed("z", at: 65) == [d2.id], "then D's second is due")
    }

    func onlyTheLeaseHolderFinishesAnAttempt() async throws {
        let event = try await recordNew(newEvent(), lease: .always(Lease(owner: "a", duration: lease)))
        try expect(try await !store.complete(id: event.id, owner: "b", now: at(1)), "complete by another owner is refused")
        try expect(try await !store.fail(id: event.id, owner: "b", error: "e", retryAt: at(5), now: at(1)),
                   "fail by another owner is refused")
        try expect(try await !store.deadLetter(id: event.id, owner: "b", error: "e", now: at(1)),
                   "dead-letter by another owner is refused")
        let untouched = try await store.event(id: event.id)
        try expect(untouched == event, "refused changes change nothing; got \(String(describing: untouched))")
        try expect(try await store.complete(id: event.id, owner: "a", now: at(2)), "the holder completes it")
        let completed = try await store.event(id: event.id)
        try expect(completed?.state == .completed(at: at(2)) && completed?.attempts == 1,
                   "completed at the time given; got \(String(describing: completed))")
        try expect(try await !store.complete(id: event.id, owner: "a", now: at(3)), "a completed event is not completed twice")
        try expect(try await !store.fail(id: event.id, owner: "a", error: "e", retryAt: at(5), now: at(3)),
                   "nor failed after completion")
        let pending = try await recordNew(newEvent("O-2"))
        try expect(try await !store.complete(id: pending.id, owner: "a", now: at(3)), "an unclaimed event has no holder")
        try expect(try await !store.complete(id: NewInboxEvent.makeID(), owner: "a", now: at(3)), "an unknown id is refused")
    }

    func failedEventsWaitForTheirRetry() async throws {
        let event = try await recordNew(newEvent(), lease: .always(Lease(owner: "req", duration: lease)))
        try expect(try await store.fail(id: event.id, owner: "req", error: "boom", retryAt: at(10), now: t0), "the holder fails it")
        let failed = try await store.event(id: event.id)
        try expect(failed?.state == .waitingRetry(nextAttemptAt: at(10)) && failed?.lastError == "boom",
                   "a failed event waits for its retry time with its error; got \(String(describing: failed))")
        let early = try await store.claimDue(owner: "w", limit: 5, leaseDuration: lease, now: at(9.999))
        try expect(early.isEmpty, "not due before its retry time; got \(early)")
        let retry = try await store.claimDue(owner: "w", limit: 5, leaseDuration: lease, now: at(10))
        try expect(retry.map(\.attempts) == [2] && retry.first?.lastError == "boom",
                   "due at its retry time as attempt 2, the last error kept; got \(retry)")
        try expect(try await store.complete(id: event.id, owner: "w", now: at(11)), "the retry completes")
    }

    func deadLettersWaitForAReplay() async throws {
        let event = try await recordNew(newEvent(), lease: .always(Lease(owner: "w", duration: lease)))
        try expect(try await store.deadLetter(id: event.id, owner: "w", error: "boom again", now: at(11)), "the holder dead-letters it")
        let due = try await store.claimDue(owner: "w", limit: 5, leaseDuration: lease, now: at(999_999))
        try expect(due.isEmpty, "a dead letter is never due; got \(due)")
        let dead = try await store.list(.deadLetters)
        try expect(dead.count == 1 && dead.first?.state == .dead(at: at(11)) && DeadLetter(dead[0])?.error == "boom again",
                   "listed as a dead letter with its error; got \(dead)")
        let replayed = try await store.replay(id: event.id, now: at(20))
        try expect(replayed?.state == .pending && replayed?.attempts == 0 && replayed?.lastError == "boom again",
                   "a replay makes it pending with no attempts, the last error kept; got \(String(describing: replayed))")
        try expect(try await store.event(id: event.id) == replayed, "the replay is stored")
        let claimed = try await store.claimDue(owner: "w", limit: 5, leaseDuration: lease, now: at(21))
        try expect(claimed.map(\.attempts) == [1], "a replayed event runs afresh as attempt 1; got \(claimed)")
        let inProgress = try await store.replay(id: event.id, now: at(22))
        try expect(inProgress == nil, "an event under a live lease is not replayed")
        let abandoned = try await store.replay(id: event.id, now: at(51))
        try expect(abandoned?.state == .pending && abandoned?.attempts == 0,
                   "once its lease has run out (at 51) it is replayed; got \(String(describing: abandoned))")
        let rerun = try await store.claimDue(owner: "w", limit: 5, leaseDuration: lease, now: at(52))
        try expect(rerun.map(\.attempts) == [1], "and runs afresh; got \(rerun)")
        try expect(try await store.complete(id: event.id, owner: "w", now: at(53)), "w completes it")
        let again = try await store.replay(id: event.id, now: at(54))
        try expect(again?.state == .pending, "a completed event can be replayed; got \(String(describing: again))")
        let unknown = try await store.replay(id: NewInboxEvent.makeID(), now: at(54))
        try expect(unknown == nil, "an unknown id replays nothing")
    }

    // MARK: queries and retention

    func listsByEveryFilterOldestFirst() async throws {
        try await recordNew(newEvent("A", status: 5, merchantID: 1, at: 0))
        try await recordNew(newEvent("B", status: 2, kind: .card, merchantID: 2, at: 1))
        try await recordNew(newEvent("C", status: 5, merchantID: 2, at: 2), lease: .always(Lease(owner: "w", duration: lease)))
        let dead = try await recordNew(newEvent("D", status: 7, merchantID: 1, at: 3), lease: .always(Lease(owner: "w", duration: lease)))
        try expect(try await store.deadLetter(id: dead.id, owner: "w", error: "x", now: t0), "w dead-letters D")
        try await recordNew(newEvent("A", status: 6, merchantID: 1, at: 4))

        try expect(try await orderNos(EventFilter()) == ["A", "B", "C", "D", "A"], "everything, oldest first")
        try expect(try await orderNos(EventFilter(orderNo: "A")) == ["A", "A"], "by order number")
        try expect(try await orderNos(EventFilter(orderNo: "a")).isEmpty, "order numbers match exactly")
        try expect(try await orderNos(EventFilter(kinds: [.card])) == ["B"], "by kind")
        try expect(try await orderNos(EventFilter(kinds: [])).isEmpty, "an empty set of kinds matches nothing")
        try expect(try await orderNos(EventFilter(merchantID: 2)) == ["B", "C"], "by merchant")
        try expect(try await orderNos(EventFilter(status: 5)) == ["A", "C"], "by status")
        try expect(try await orderNos(EventFilter(states: [.processing, .dead])) == ["C", "D"], "by state")
        try expect(try await orderNos(EventFilter(states: [.pending])) == ["A", "B", "A"], "pending ones")
        try expect(try await orderNos(EventFilter(states: [])).isEmpty, "an empty set of states matches nothing")
        try expect(try await orderNos(EventFilter(receivedFrom: at(1), receivedBefore: at(3))) == ["B", "C"],
                   "received from (inclusive) before (exclusive)")
        try expect(try await orderNos(EventFilter(receivedFrom: at(3.5))) == ["A"], "received from a time")
        try expect(try await orderNos(EventFilter(merchantID: 1, status: 5, receivedBefore: at(1))) == ["A"],
                   "criteria combine")
        try expect(try await orderNos(EventFilter(limit: 2)) == ["A", "B"], "the limit keeps the oldest")
        try expect(try await orderNos(EventFilter(merchantID: 1, limit: 2)) == ["A", "D"], "the limit applies after the criteria")
        try expect(try await orderNos(EventFilter(limit: 0)).isEmpty, "a limit of 0 lists nothing")
    }

    func pagesNewestFirstAndCounts() async throws {
        for (index, order) in ["A", "B", "C", "D", "E"].enumerated() {
            try await recordNew(newEvent(order, status: 5, merchantID: index < 3 ? 1 : 2, at: Double(index)))
        }
        try expect(try await orderNos(EventFilter(newestFirst: true)) == ["E", "D", "C", "B", "A"], "newest first")
        try expect(try await orderNos(EventFilter(limit: 2, newestFirst: true, offset: 2)) == ["C", "B"],
                   "a page of two after skipping two")
        try expect(try await orderNos(EventFilter(limit: 2, offset: 4)) == ["E"], "oldest first, offset past most")
        try expect(try await orderNos(EventFilter(merchantID: 1, newestFirst: true, offset: 1)) == ["B", "A"],
                   "the offset applies after the criteria")
        try expect(try await orderNos(EventFilter(offset: 9)).isEmpty, "an offset past the end lists nothing")
        try expect(try await store.count(EventFilter()) == 5, "counts everything")
        try expect(try await store.count(EventFilter(merchantID: 2, limit: 1, offset: 1)) == 2,
                   "counts by the criteria, whatever the limit and offset")
        try expect(try await store.count(EventFilter(states: [.dead])) == 0, "counts nothing when nothing matches")
        let leftOver = try await store.purge(EventFilter(merchantID: 1, offset: 2))
        try expect(leftOver == 3, "purge ignores the offset, which is for listings (purged \(leftOver))")
    }

    func purgesByFilterButNotEventsInProgress() async throws {
        for index in 0..<4 { try await recordNew(newEvent("O-\(index)", at: Double(index))) }
        // A day: `purge` compares leases with the real clock, and the test run started at t0.
        let leased = try await recordNew(newEvent("LEASED", at: 4), lease: .always(Lease(owner: "w", duration: .seconds(86_400))))
        try expect(try await store.purge(EventFilter(orderNo: "O-0")) == 1, "purges the matching event")
        try expect(try await orderNos(EventFilter()) == ["O-1", "O-2", "O-3", "LEASED"], "and only it")
        let again = try await store.record(newEvent("O-0", at: 5), lease: .none, now: at(5))
        guard case .recorded = again else { throw violation("a purged key is new again; got \(again)") }
        try expect(try await store.purge(EventFilter(limit: 2)) == 2, "purges up to the limit")
        try expect(try await orderNos(EventFilter()) == ["O-3", "LEASED", "O-0"], "the oldest first")
        try expect(try await store.purge(EventFilter()) == 2, "purges everything but the event in progress")
        try expect(try await store.list(EventFilter()).map(\.id) == [leased.id], "the event in progress stays")
    }

    func purgingForgetsAnOrdersStatusWithItsLastEvent() async throws {
        let paid = try await recordNew(newEvent("A", status: 5, rank: 1))
        try await recordNew(newEvent("A", status: 7, rank: 4, at: 1))
        try await recordNew(newEvent("B", status: 7, rank: 4, at: 2))
        try expect(try await store.purge(EventFilter(orderNo: "A", status: 5)) == 1, "purges A's first event")
        try expect(try await store.event(id: paid.id) == nil, "A's first event is gone")
        let stale = try await recordNew(newEvent("A", status: 8, rank: 3, at: 3))
        try expect(stale.previousStatus == 7 && stale.isStale,
                   "with another event of A left, A's last status (7, rank 4) is kept; got \(stale)")
        try expect(try await store.purge(EventFilter(orderNo: "A")) == 2, "purges A's other events")
        let fresh = try await recordNew(newEvent("A", status: 2, rank: 1, at: 4))
        try expect(fresh.previousStatus == nil && !fresh.isStale,
                   "with its last event gone, A starts afresh; got \(fresh)")
        let other = try await recordNew(newEvent("B", status: 8, rank: 3, at: 5))
        try expect(other.previousStatus == 7 && other.isStale, "B's status is not A's to forget; got \(other)")
    }

    func prunesCompletedEventsAndKeepsDeadLetters() async throws {
        let holder = Lease(owner: "w", duration: lease)
        let done = try await recordNew(newEvent("DONE", at: 0), lease: .always(holder))
        let late = try await recordNew(newEvent("LATE", at: 1), lease: .always(holder))
        let dead = try await recordNew(newEvent("DEAD", at: 2), lease: .always(holder))
        let waiting = try await recordNew(newEvent("WAITING", at: 3), lease: .always(holder))
        try await recordNew(newEvent("PENDING", at: 4))
        try await recordNew(newEvent("LEASED", at: 5), lease: .always(holder))
        try expect(try await store.complete(id: done.id, owner: "w", now: at(1)), "w completes DONE")
        try expect(try await store.complete(id: late.id, owner: "w", now: at(2)), "w completes LATE")
        try expect(try await store.deadLetter(id: dead.id, owner: "w", error: "x", now: t0), "w dead-letters DEAD")
        try expect(try await store.fail(id: waiting.id, owner: "w", error: "x", retryAt: at(60), now: t0), "w fails WAITING")
        try expect(try await store.prune(completedBefore: at(1)) == 0, "completed at the date itself is not before it")
        try expect(try await store.prune(completedBefore: at(1.5)) == 1, "prunes what was completed before the date")
        try expect(try await orderNos(EventFilter()) == ["LATE", "DEAD", "WAITING", "PENDING", "LEASED"],
                   "everything else stays")
        try expect(try await store.prune(completedBefore: at(999_999)) == 1, "prunes the other completed event")
        try expect(try await orderNos(EventFilter()) == ["DEAD", "WAITING", "PENDING", "LEASED"],
                   "dead letters, waiting, pending and leased events stay")
        let again = try await store.record(newEvent("DONE", at: 6), lease: .none, now: at(6))
        guard case .recorded = again else { throw violation("a pruned key is new again; got \(again)") }
    }

    // MARK: concurrency and health

    func concurrentRecordsOfOneKeyRecordOnce() async throws {
        let outcomes = try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    try await self.store.record(newEvent(), lease: .always(Lease(owner: "request", duration: self.lease)), now: self.t0)
                }
            }
            return try await group.reduce(into: [RecordOutcome]()) { $0.append($1) }
        }
        let recorded = outcomes.filter { if case .recorded = $0 { true } else { false } }
        try expect(recorded.count == 1, "exactly one of 100 concurrent records is .recorded; got \(recorded.count)")
        try expect(outcomes.allSatisfy { $0.event.id == recorded.first?.event.id },
                   "the others are duplicates of that event")
        try expect(outcomes.allSatisfy { if case .conflict = $0 { false } else { true } }, "none is a conflict")
        try expect(try await store.list(EventFilter()).count == 1, "one event is stored")
    }

    func concurrentClaimsNeverShareAnEvent() async throws {
        for index in 0..<20 { try await recordNew(newEvent("O-\(index)", at: Double(index))) }
        let claims = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<10 {
                group.addTask {
                    try await self.store.claimDue(owner: "w\(worker)", limit: 3, leaseDuration: self.lease, now: self.t0).map(\.id)
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        try expect(claims.count == 20 && Set(claims).count == 20,
                   "10 workers claiming 3 each get all 20 events, each once; got \(claims.count), \(Set(claims).count) distinct")
    }

    func concurrentClaimsTakeOneEventPerOrder() async throws {
        var firsts: Set<String> = []
        for index in 0..<30 {
            let event = try await recordNew(newEvent("O-\(index % 10)", status: index, at: Double(index)))
            if index < 10 { firsts.insert(event.id) }
        }
        let claims = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<10 {
                group.addTask {
                    try await self.store.claimDue(owner: "w\(worker)", limit: 3, leaseDuration: self.lease, now: self.t0).map(\.id)
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        try expect(claims.count == 10 && Set(claims) == firsts,
                   "10 workers get the first event of each of 10 orders, and nothing else; got \(claims.count)")
    }

    func answersWhenAvailable() async throws {
        try await store.checkAvailability()
        try expect(try await store.event(id: NewInboxEvent.makeID()) == nil, "an unknown id has no event")
        try expect(try await store.list(EventFilter()).isEmpty, "an empty store lists nothing")
        try expect(try await store.prune(completedBefore: at(1)) == 0, "an empty store prunes nothing")
        try expect(try await store.purge(EventFilter()) == 0, "an empty store purges nothing")
        try await recordNew(newEvent())
        try await store.checkAvailability()
    }
}

import Foundation
import Inbox
import InboxTesting
import Testing
import TrustPayWebhooksTesting
import Webhooks
import Locking

/// The contract is not vacuous: a store that breaks a requirement fails it,
/// with a message that says which expectation.
@Suite struct IdempotencyStoreContractTests {
    @Test func aStoreThatTakesConflictsForDuplicatesBreaksTheContract() async throws {
        let violation = await #expect(throws: ContractViolation.self) {
            try await IdempotencyStoreContract().verify(.recordsEachKeyOnce, on: ConflictBlindStore())
        }
        #expect(violation?.requirement == .recordsEachKeyOnce)
        #expect(violation?.description.contains("another hash is .conflict") == true, "\(String(describing: violation))")
    }

    @Test func verifyAllChecksEveryRequirementOnAFreshStoreAndDiscardsEach() async throws {
        let made = Locked<[MemoryInbox]>([])
        let discarded = Locked(0)
        try await IdempotencyStoreContract().verifyAll(
            makeStore: {
                let inbox = MemoryInbox()
                made.withLock { $0.append(inbox) }
                return inbox
            },
            discard: { _ in discarded.withLock { $0 += 1 } })
        #expect(made.withLock { $0.count } == IdempotencyStoreContract.Requirement.allCases.count)
        #expect(discarded.withLock { $0 } == IdempotencyStoreContract.Requirement.allCases.count)
    }

    @Test func theOtherRequirementsDoNotDependOnConflicts() async throws {
        let aboutConflicts: Set<IdempotencyStoreContract.Requirement> = [
            .recordsEachKeyOnce, .keepsTheFirstConflictingCopies, .historyGoesWithItsEvent,
        ]
        for requirement in IdempotencyStoreContract.Requirement.allCases where !aboutConflicts.contains(requirement) {
            try await IdempotencyStoreContract().verify(requirement, on: ConflictBlindStore())
        }
    }
}

/// A memory inbox behind a bug: a repeat with other content is answered as a
/// plain duplicate, and its conflict goes uncounted.
private final class ConflictBlindStore: InboxAdministration {
    let inner = MemoryInbox()

    func record(_ event: NewInboxEvent, lease: Lease?, now: Date) async throws -> RecordOutcome {
        if let existing = try await inner.list(EventFilter()).first(where: { $0.key == event.key }) {
            return .duplicate(existing)
        }
        return try await inner.record(event, lease: lease, now: now)
    }
    func claim(id: String, owner: String, leaseDuration: Duration, now: Date) async throws -> InboxEvent? {
        try await inner.claim(id: id, owner: owner, leaseDuration: leaseDuration, now: now)
    }
    func claimDue(owner: String, limit: Int, leaseDuration: Duration, now: Date) async throws -> [InboxEvent] {
        try await inner.claimDue(owner: owner, limit: limit, leaseDuration: leaseDuration, now: now)
    }
    func complete(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        try await inner.complete(id: id, owner: owner, attempt: attempt)
    }
    func fail(id: String, owner: String, attempt: HandlerAttempt, retryAt: Date) async throws -> Bool {
        try await inner.fail(id: id, owner: owner, attempt: attempt, retryAt: retryAt)
    }
    func deadLetter(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        try await inner.deadLetter(id: id, owner: owner, attempt: attempt)
    }
    func history(id: String) async throws -> EventHistory { try await inner.history(id: id) }
    func event(id: String) async throws -> InboxEvent? { try await inner.event(id: id) }
    func list(_ filter: EventFilter) async throws -> [InboxEvent] { try await inner.list(filter) }
    func replay(id: String, now: Date) async throws -> InboxEvent? { try await inner.replay(id: id, now: now) }
    func purge(_ filter: EventFilter) async throws -> Int { try await inner.purge(filter) }
    func prune(completedBefore date: Date) async throws -> Int { try await inner.prune(completedBefore: date) }
    func checkAvailability() async throws {}
}

extension ConflictBlindStore: ReconciliationStore {
    func expect(_ order: ExpectedOrder) async throws -> Bool { try await inner.expect(order) }
    func reconciliationCandidates(
        finalStatuses: Set<Int>, quietSince: Date, notBefore: Date, limit: Int
    ) async throws -> [ReconciliationCandidate] {
        try await inner.reconciliationCandidates(
            finalStatuses: finalStatuses, quietSince: quietSince, notBefore: notBefore, limit: limit)
    }
    func takeQueryLease(order: OrderReference, owner: String, until: Date, now: Date) async throws -> Bool {
        try await inner.takeQueryLease(order: order, owner: owner, until: until, now: now)
    }
    func forgetReconciliation(expectedBefore: Date, leasesEndedBefore: Date) async throws -> Int {
        try await inner.forgetReconciliation(expectedBefore: expectedBefore, leasesEndedBefore: leasesEndedBefore)
    }
}

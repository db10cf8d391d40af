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
            try await IdempotencyStoreContract().verify(.recordsEachKeyOnce, on: MisbehavingStore(.conflictBlind))
        }
        #expect(violation?.requirement == .recordsEachKeyOnce)
        #expect(violation?.description.contains("another hash is .conflict") == true, "\(String(describing: violation))")
    }

    /// Each lease-on-record requirement fails against a store that ignores a
    /// conditional lease, either way: one that always leases, one that never does.
    @Test(arguments: [
        IdempotencyStoreContract.Requirement.aConditionalLeaseClaimsOnlyTheFirstOfAnOrder,
        .aConditionallyLeasedEventHoldsItsOrder,
    ])
    func aStoreThatIgnoresAConditionalLeaseBreaksTheContract(_ requirement: IdempotencyStoreContract.Requirement) async throws {
        for bug in [MisbehavingStore.Bug.leasesUnconditionally, .neverLeasesConditionally] {
            let violation = await #expect(throws: ContractViolation.self, "\(bug)") {
                try await IdempotencyStoreContract().verify(requirement, on: MisbehavingStore(bug))
            }
            #expect(violation?.requirement == requirement)
        }
        try await IdempotencyStoreContract().verify(requirement, on: MemoryInbox())
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
            try await IdempotencyStoreContract().verify(requirement, on: MisbehavingStore(.conflictBlind))
        }
    }
}

/// A memory inbox behind a bug.
private final class MisbehavingStore: MemoryInboxWrapper {
    enum Bug {
        /// A repeat with other content is answered as a plain duplicate, and
        /// its conflict goes uncounted.
        case conflictBlind
        /// A lease if first of its order is granted whatever the order holds.
        case leasesUnconditionally
        /// A lease if first of its order is never granted.
        case neverLeasesConditionally
    }
    let inner = MemoryInbox()
    let bug: Bug

    init(_ bug: Bug) {
        self.bug = bug
    }

    func record(_ event: NewInboxEvent, lease: LeaseRequest, now: Date) async throws -> RecordOutcome {
        switch (bug, lease) {
        case (.conflictBlind, _):
            if let existing = try await inner.list(EventFilter()).first(where: { $0.key == event.key }) {
                return .duplicate(existing)
            }
            return try await inner.record(event, lease: lease, now: now)
        case (.leasesUnconditionally, .ifFirstOfOrder(let granted)):
            return try await inner.record(event, lease: .always(granted), now: now)
        case (.neverLeasesConditionally, .ifFirstOfOrder):
            return try await inner.record(event, lease: .none, now: now)
        default:
            return try await inner.record(event, lease: lease, now: now)
        }
    }
    func checkAvailability() async throws {}
}

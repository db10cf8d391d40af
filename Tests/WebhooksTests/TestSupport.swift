import Foundation
import Inbox
import Logging
import Synchronization
import TrustPay
import TrustPayWebhooksTesting
import Webhooks
import Locking

/// The merchant every test posts as, and a second one for routing tests.
let merchant = TestMerchant(id: 8_820_250_900_009, secret: "s3cr3t-for-tests")
let otherMerchant = TestMerchant(id: 8_820_250_900_077, secret: "another-s3cr3t")
let factory = CallbackFactory(merchant: merchant)

/// A server for `merchant` with a fast retry schedule, the recorder's handlers
/// registered, and whatever `adjust` adds.
func makeServer(
    store: any IdempotencyStore = MemoryInbox(), recorder: HandlerRecorder,
    _ adjust: (inout WebhookServer) -> Void = { _ in }
) -> WebhookServer {
    var configuration = WebhookConfiguration(merchants: [merchant.merchant])
    configuration.retrySchedule = RetrySchedule(
        maxAttempts: 3, initialDelay: .milliseconds(20), multiplier: 2, maxDelay: .milliseconds(100), jitter: 0.5)
    configuration.workers = 2
    configuration.handlerTimeout = .seconds(5)
    var server = WebhookServer(configuration: configuration, store: store, logger: testLogger)
    recorder.register(on: &server)
    adjust(&server)
    return server
}

/// Quiet unless a test fails loudly: warnings and errors only.
let testLogger: Logger = {
    var logger = Logger(label: "webhooks-tests")
    logger.logLevel = .warning
    return logger
}()

struct HandlerError: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}

/// A store that can be switched off, for the 503 paths.
final class OutageStore: InboxAdministration {
    let inner = MemoryInbox()
    private let down = Atomic<Bool>(false)

    private let claimDelays = Locked<[Duration]>([])
    private let handsOver = Atomic<Bool>(true)

    /// Whether a new after-store event may be recorded leased to the
    /// workers (handed over); when not, it is recorded pending and claimed,
    /// as one recorded by another replica would be.
    func handOver(_ allowed: Bool) { handsOver.store(allowed, ordering: .relaxed) }

    func setDown(_ isDown: Bool) { down.store(isDown, ordering: .relaxed) }

    /// The next claims that find events return only after these delays, as
    /// from a slow database (the claim's lease runs from before the wait).
    func delayClaims(_ delays: [Duration]) { claimDelays.withLock { $0 = delays } }

    private func check() throws {
        if down.load(ordering: .relaxed) { throw StoreError.unavailable("switched off by the test") }
    }

    func record(_ event: NewInboxEvent, lease: LeaseRequest, now: Date) async throws -> RecordOutcome {
        try check()
        if case .ifFirstOfOrder = lease, !handsOver.load(ordering: .relaxed) {
            return try await inner.record(event, lease: .none, now: now)
        }
        return try await inner.record(event, lease: lease, now: now)
    }
    func claim(id: String, owner: String, leaseDuration: Duration, now: Date) async throws -> InboxEvent? {
        try check()
        return try await inner.claim(id: id, owner: owner, leaseDuration: leaseDuration, now: now)
    }
    func claimDue(owner: String, limit: Int, leaseDuration: Duration, now: Date) async throws -> [InboxEvent] {
        try check()
        let claimed = try await inner.claimDue(owner: owner, limit: limit, leaseDuration: leaseDuration, now: now)
        if !claimed.isEmpty, let delay = claimDelays.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            try await Task.sleep(for: delay)
        }
        return claimed
    }
    func complete(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        try check()
        return try await inner.complete(id: id, owner: owner, attempt: attempt)
    }
    func fail(id: String, owner: String, attempt: HandlerAttempt, retryAt: Date) async throws -> Bool {
        try check()
        return try await inner.fail(id: id, owner: owner, attempt: attempt, retryAt: retryAt)
    }
    func deadLetter(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        try check()
        return try await inner.deadLetter(id: id, owner: owner, attempt: attempt)
    }
    func history(id: String) async throws -> EventHistory {
        try check()
        return try await inner.history(id: id)
    }
    func event(id: String) async throws -> InboxEvent? {
        try check()
        return try await inner.event(id: id)
    }
    func list(_ filter: EventFilter) async throws -> [InboxEvent] {
        try check()
        return try await inner.list(filter)
    }
    func replay(id: String, now: Date) async throws -> InboxEvent? {
        try check()
        return try await inner.replay(id: id, now: now)
    }
    func purge(_ filter: EventFilter) async throws -> Int {
        try check()
        return try await inner.purge(filter)
    }
    func prune(completedBefore date: Date) async throws -> Int {
        try check()
        return try await inner.prune(completedBefore: date)
    }
    func checkAvailability() async throws { try check() }
}

/// A test store that is a memory inbox with a few of its calls changed
/// (held, delayed, broken on purpose): every call the wrapper does not
/// implement itself goes to `inner` unchanged.
protocol MemoryInboxWrapper: InboxAdministration, ReconciliationStore {
    var inner: MemoryInbox { get }
}

extension MemoryInboxWrapper {
    func record(_ event: NewInboxEvent, lease: LeaseRequest, now: Date) async throws -> RecordOutcome {
        try await inner.record(event, lease: lease, now: now)
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
    func checkAvailability() async throws { try await inner.checkAvailability() }

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

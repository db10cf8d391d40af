import Foundation
import Inbox
import Locking
import Testing
import TrustPay
import TrustPayWebhooksTesting

@testable import Webhooks

/// With a store whose writes wait on a group commit, a worker takes new
/// events while the outcomes of its last ones commit (`PipelinedBatches`):
/// waiting for each commit, 4 workers × 8 ran 32 events per commit against
/// 64 requests' records, the hand-off filled and two events in three were
/// claimed with a write of their own (BENCHMARKS.md, session 14).
@Suite struct PipelinedCompletionTests {
    /// One worker, one event at a time: B's handler runs while A's
    /// completion is still held in its commit, and both complete once,
    /// after it. Fails without the pipelining: B's handler waits for A's
    /// commit, which the test opens only after seeing B handled.
    @Test func aWorkerRunsTheNextEventWhileTheLastOneCommits() async throws {
        let store = HeldCommitStore()
        let recorder = HandlerRecorder()
        let server = makeServer(store: store, recorder: recorder) { server in
            server.configuration.workers = 1
            server.configuration.claimBatch = 1
        }
        try await withWebhookTestServer(server) { server in
            #expect(try await server.client.deliver(factory.payment(orderNo: "A", status: .paid)).isAcknowledgement)
            try await eventually("A's completion held") { store.endingsHeld == 1 }
            #expect(try await server.client.deliver(factory.payment(orderNo: "B", status: .paid)).isAcknowledgement)
            do {
                _ = try await recorder.waitForPayments(2)
                try await eventually("B's completion held beside A's") { store.endingsHeld == 2 }
            } catch {
                store.release()  // else the shutdown waits for A's completion
                throw error
            }
            let before = try await server.storedEvents()
            #expect(before.allSatisfy { $0.state.name == .processing }, "nothing completed before its commit")
            store.release()
            try await eventually("both completed") {
                try await server.storedEvents().allSatisfy { $0.state.name == .completed }
            }
            #expect(recorder.payments.map(\.callback.orderNo) == ["A", "B"])
            #expect(try await server.storedEvents().map(\.attempts) == [1, 1])
        }
    }

    /// The next event of an order waits, pending, for the completion of the
    /// one before it; a worker with nothing else to do claims it once that
    /// completion commits, not at the next poll (an hour here). Fails with
    /// a worker not woken when its outcomes commit (`recorded()` always
    /// false): its last claim found the refund still held, and it sleeps.
    @Test func anOrdersNextEventRunsOnceTheCompletionBeforeItCommits() async throws {
        let store = HeldCommitStore()
        let recorder = HandlerRecorder()
        let server = makeServer(store: store, recorder: recorder) { server in
            server.configuration.workers = 1
            server.configuration.claimBatch = 1
            server.configuration.pollInterval = .seconds(3600)
        }
        try await withWebhookTestServer(server) { server in
            #expect(try await server.client.deliver(factory.payment(orderNo: "A", status: .unliquidated)).isAcknowledgement)
            try await eventually("A's completion held") { store.endingsHeld == 1 }
            #expect(try await server.client.deliver(factory.payment(orderNo: "A", status: .refunded)).isAcknowledgement)
            let events = try await server.storedEvents()
            #expect(events.map(\.state.name) == [.processing, .pending], "the refund waits for the payment")
            store.release()
            let seen = try await recorder.waitForPayments(2)
            #expect(seen.map(\.callback.status) == [.unliquidated, .refunded])
            try await eventually("both completed") {
                try await server.storedEvents().allSatisfy { $0.state.name == .completed }
            }
        }
    }

    /// The bound: a worker takes more while one batch's outcomes are
    /// committing, not while two are. Fails with no bound (`readyForMore`
    /// returning with the handlers done, whatever is committing).
    @Test func aWorkerWaitsWhileTwoBatchesCommit() async throws {
        let batches = PipelinedBatches(recordingLimit: 2)
        batches.taking(2)
        batches.handlersReturned()
        batches.handlersReturned()
        await batches.readyForMore()  // one batch of two committing: take more
        batches.taking(2)
        batches.handlersReturned()
        batches.handlersReturned()
        let ready = Flag()
        let worker = Task {
            await batches.readyForMore()
            ready.set()
        }
        try await eventually("the worker to wait") { batches.isWaiting }
        #expect(!ready.isSet)
        #expect(!batches.recorded(), "the worker is not asleep")  // three committing still
        #expect(batches.isWaiting && !ready.isSet)
        _ = batches.recorded()
        await worker.value
        #expect(ready.isSet)
    }

    /// Handlers of one batch at a time: a worker does not take more while
    /// any of them runs, however little is committing.
    @Test func aWorkerWaitsForEveryHandlerOfItsBatch() async throws {
        let batches = PipelinedBatches(recordingLimit: 8)
        batches.taking(2)
        batches.handlersReturned()
        let worker = Task { await batches.readyForMore() }
        try await eventually("the worker to wait") { batches.isWaiting }
        batches.handlersReturned()
        await worker.value
    }

    /// A worker that found nothing to take or claim sleeps, and is woken
    /// when one of its outcomes is recorded; one recorded since its claim
    /// began sends it to claim again at once instead.
    @Test func aWorkerLooksAgainWhenItsOutcomesCommit() {
        let batches = PipelinedBatches(recordingLimit: 8)
        batches.taking(2)
        batches.handlersReturned()
        batches.handlersReturned()
        batches.claiming()
        #expect(batches.mayIdle(), "nothing recorded since the claim began")
        #expect(batches.recorded(), "asleep with an outcome recorded: wake a worker")
        #expect(!batches.mayIdle(), "claim again: the commit may have let an event go")
        batches.claiming()
        #expect(batches.mayIdle())
        batches.awake()  // a hand-off woke it
        #expect(!batches.recorded(), "awake: it claims anyway")
        batches.claiming()
        #expect(batches.mayIdle())
    }
}

/// A memory inbox whose attempt endings (completions, failures, dead
/// letters) wait, until the test releases them, as behind a group commit
/// that has not ended yet.
final class HeldCommitStore: MemoryInboxWrapper {
    let inner = MemoryInbox()
    private let gate = Locked((open: false, held: 0, waiting: [CheckedContinuation<Void, Never>]()))

    var writesWaitForGroupCommit: Bool { true }
    var neverBlocksCaller: Bool { true }

    /// Endings waiting for the commit now.
    var endingsHeld: Int { gate.withLock { $0.held } }

    /// Ends the commit: every ending held goes through, and later ones at once.
    func release() {
        let waiting = gate.withLock { gate in
            gate.open = true
            gate.held = 0
            defer { gate.waiting = [] }
            return gate.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    private func commit() async {
        await withCheckedContinuation { continuation in
            let open = gate.withLock { gate in
                if !gate.open {
                    gate.held += 1
                    gate.waiting.append(continuation)
                }
                return gate.open
            }
            if open { continuation.resume() }
        }
    }

    func complete(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        await commit()
        return try await inner.complete(id: id, owner: owner, attempt: attempt)
    }
    func fail(id: String, owner: String, attempt: HandlerAttempt, retryAt: Date) async throws -> Bool {
        await commit()
        return try await inner.fail(id: id, owner: owner, attempt: attempt, retryAt: retryAt)
    }
    func deadLetter(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        await commit()
        return try await inner.deadLetter(id: id, owner: owner, attempt: attempt)
    }
}

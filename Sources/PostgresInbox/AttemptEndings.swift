import Foundation
import Inbox
import Locking

/// The end of one handler attempt as ``PostgresInbox`` writes it for
/// `complete`, `fail` and `deadLetter`: the state the event takes if the
/// lease is still held, and the attempt kept in its history either way.
package struct AttemptEnding: Sendable {
    package let id: String
    package let owner: String
    /// `completed`, `waiting-retry` or `dead`.
    package let state: String
    /// When it was completed or became a dead letter, or when to retry.
    package let stateAt: Date
    package let attempt: HandlerAttempt

    package init(id: String, owner: String, state: String, stateAt: Date, attempt: HandlerAttempt) {
        self.id = id
        self.owner = owner
        self.state = state
        self.stateAt = stateAt
        self.attempt = attempt
    }
}

/// Group commit for attempt endings: the endings that arrive while one
/// batch is being written wait together and go in the next one, so that
/// they share one statement and one commit (one WAL flush) instead of each
/// paying its own. Nothing waits for a timer: an ending that arrives while
/// no batch is in flight is written at once, alone.
///
/// Every caller gets its own answer (was its lease still held?), and when
/// the batch's statement fails, every caller in it gets the failure: none
/// is told of a completion that was not committed. A batch holds at most
/// `batchLimit` endings and one ending per event, so that it ends exactly
/// as the same calls made one after another would (a second ending of an
/// event waits for the next batch).
///
/// ``run(_:)`` writes the batches until cancelled (``PostgresInbox`` runs
/// it with its connection pool); then, or after ``close(because:)``,
/// waiting and new endings fail with ``StoreError/unavailable(_:)``.
package final class AttemptEndings: Sendable {
    /// Writes `batch` within `timeout`: the ids of the events it finished
    /// (whose lease was held), or the error that every caller gets.
    package typealias Write =
        @Sendable (_ batch: [AttemptEnding], _ timeout: Duration) async -> Result<Set<String>, StoreError>

    package let batchLimit: Int
    /// How long a caller may wait for its answer, its time in the queue included.
    package let timeout: Duration

    private struct Waiter {
        let ticket: Int
        let ending: AttemptEnding
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var queued: [Waiter] = []
        var nextTicket = 0
        /// The writer, when it waits for endings.
        var wakeUp: CheckedContinuation<Void, Never>?
        /// Why endings are refused, once they are.
        var closed: String?
    }
    private let state = Locked(State())

    package init(batchLimit: Int = 64, timeout: Duration) {
        precondition(batchLimit > 0, "a batch holds at least one ending")
        self.batchLimit = batchLimit
        self.timeout = timeout
    }

    /// How many endings wait for a batch (not those being written).
    package var waiting: Int { state.withLock { $0.queued.count } }

    /// Waits until `ending` is written (or its batch failed): true when the
    /// lease was held and the event took the new state.
    package func end(_ ending: AttemptEnding) async throws -> Bool {
        let ticket = state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard !Task.isCancelled else {
                    continuation.resume(throwing: Self.cancelled)
                    return
                }
                let (refusal, writer) = state.withLock { state -> (String?, CheckedContinuation<Void, Never>?) in
                    if let reason = state.closed { return (reason, nil) }
                    state.queued.append(
                        Waiter(ticket: ticket, ending: ending, deadline: deadline, continuation: continuation))
                    defer { state.wakeUp = nil }
                    return (nil, state.wakeUp)
                }
                if let refusal { continuation.resume(throwing: StoreError.unavailable(refusal)) }
                writer?.resume()
            }
        } onCancel: {
            // Still queued: it will not be written. Once in a batch, the
            // caller waits for the batch (bounded by its deadline) instead.
            let waiter = state.withLock { state in
                state.queued.firstIndex { $0.ticket == ticket }.map { state.queued.remove(at: $0) }
            }
            waiter?.continuation.resume(throwing: Self.cancelled)
        }
    }

    /// Writes batches with `write` until cancelled; then fails the endings
    /// still waiting and refuses new ones.
    package func run(_ write: Write) async {
        while let batch = await nextBatch() {
            await self.write(batch, with: write)
        }
        close(because: "the PostgreSQL inbox is shut down")
    }

    /// Fails the endings waiting and refuses new ones with `reason`.
    package func close(because reason: String) {
        let (waiters, writer, refusal) = state.withLock { state in
            if state.closed == nil { state.closed = reason }
            defer {
                state.queued = []
                state.wakeUp = nil
            }
            return (state.queued, state.wakeUp, state.closed ?? reason)
        }
        writer?.resume()
        for waiter in waiters { waiter.continuation.resume(throwing: StoreError.unavailable(refusal)) }
    }

    private static let cancelled = StoreError.unavailable("the request was cancelled before PostgreSQL answered")

    /// The next batch, waiting for one if need be; nil once cancelled or closed.
    private func nextBatch() async -> [Waiter]? {
        while !Task.isCancelled {
            guard let batch = take() else { return nil }
            if !batch.isEmpty { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { writer in
                    let ready = state.withLock { state in
                        guard state.queued.isEmpty, state.closed == nil else { return true }
                        state.wakeUp = writer
                        return false
                    }
                    if ready { writer.resume() }
                }
            } onCancel: {
                close(because: "the PostgreSQL inbox is shut down")
            }
        }
        return nil
    }

    /// Up to `batchLimit` waiting endings, oldest first, one per event; nil once closed.
    private func take() -> [Waiter]? {
        state.withLock { state in
            guard state.closed == nil else { return nil }
            var batch: [Waiter] = []
            var events = Set<String>()
            var left: [Waiter] = []
            for waiter in state.queued {
                if batch.count < batchLimit, events.insert(waiter.ending.id).inserted {
                    batch.append(waiter)
                } else {
                    left.append(waiter)
                }
            }
            state.queued = left
            return batch
        }
    }

    /// Writes one batch and answers each of its callers. The statement gets
    /// the time its earliest caller has left, so that no caller waits
    /// longer than `timeout` in all; a caller whose time ran out while it
    /// waited (behind a batch that already had its event) is not written.
    private func write(_ batch: [Waiter], with write: Write) async {
        let now = ContinuousClock.now
        var live: [Waiter] = []
        for waiter in batch {
            if waiter.deadline > now {
                live.append(waiter)
            } else {
                waiter.continuation.resume(throwing: StoreError.unavailable("PostgreSQL did not answer within \(timeout)"))
            }
        }
        guard let earliest = live.map(\.deadline).min() else { return }
        switch await write(live.map(\.ending), earliest - now) {
        case .success(let finished):
            for waiter in live { waiter.continuation.resume(returning: finished.contains(waiter.ending.id)) }
        case .failure(let error):
            for waiter in live { waiter.continuation.resume(throwing: error) }
        }
    }
}

import Deadlines
import Durations
import Foundation
import Inbox
import Locking

/// Group commit: the writes that arrive while a batch is being written
/// wait together and go in the next one, so that they share one statement
/// and one commit (one WAL flush) instead of each paying its own. Nothing
/// waits for a timer: a write that arrives while a writer is idle is
/// written at once, alone. ``PostgresInbox`` uses one for attempt endings
/// (``AttemptEndings``) and one for new events (`record`).
///
/// Every caller gets its own answer, and when the batch's statement fails,
/// every caller in it gets the failure: none is told of a write that was
/// not committed. A batch holds at most `batchLimit` items and, when a
/// `conflictKey` is given, one item per key (a second item of a key waits
/// for the next batch, so that it sees the first one's result as it would
/// one call after another). With `writers` above one, that many batches
/// may be in flight at once (on as many connections).
///
/// ``run(_:)`` writes the batches until cancelled (``PostgresInbox`` runs
/// it with its connection pool); then, or after ``close(because:)``,
/// waiting and new items fail with ``StoreError/unavailable(_:)``.
package final class GroupCommit<Item: Sendable, Answer: Sendable>: Sendable {
    /// Writes `batch` within `timeout`: one answer per item, in the batch's
    /// order, or the error that every caller gets.
    package typealias Write = @Sendable (_ batch: [Item], _ timeout: Duration) async -> Result<[Answer], StoreError>

    package let batchLimit: Int
    /// How many batches may be written at once.
    package let writers: Int
    /// How long a caller may wait for its answer, its time in the queue included.
    package let timeout: Duration
    private let conflictKey: (@Sendable (Item) -> String)?

    /// A class, not a struct: `CheckedContinuation`'s layout is resilient
    /// (not frozen), so a struct holding one was copied and destroyed
    /// through value witnesses that looked up the continuation's generic
    /// metadata at every call, a few times per write in the queue and the
    /// batch: ~7,000 instructions per PostgreSQL callback (callgrind,
    /// BENCHMARKS.md session 23). A reference is retained instead.
    private final class Waiter: Sendable {
        let ticket: Int
        let item: Item
        /// ``monotonicNanoseconds()`` (a `ContinuousClock.Instant` is resilient too).
        let deadline: UInt64
        let continuation: CheckedContinuation<Answer, any Error>

        init(ticket: Int, item: Item, deadline: UInt64, continuation: CheckedContinuation<Answer, any Error>) {
            self.ticket = ticket
            self.item = item
            self.deadline = deadline
            self.continuation = continuation
        }
    }

    private struct State {
        var queued: [Waiter] = []
        var nextTicket = 0
        /// The writers waiting for items.
        var idle: [CheckedContinuation<Void, Never>] = []
        /// Why items are refused, once they are.
        var closed: String?
    }
    private let state = Locked(State())

    package init(
        batchLimit: Int = 64, writers: Int = 1, timeout: Duration,
        conflictKey: (@Sendable (Item) -> String)? = nil
    ) {
        precondition(batchLimit > 0, "a batch holds at least one item")
        precondition(writers > 0, "a group commit needs a writer")
        self.batchLimit = batchLimit
        self.writers = writers
        self.timeout = timeout
        self.conflictKey = conflictKey
    }

    /// How many items wait for a batch (not those being written).
    package var waiting: Int { state.withLock { $0.queued.count } }

    /// Waits until `item` is written (or its batch failed): its answer.
    package func submit(_ item: Item) async throws -> Answer {
        let ticket = state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
        let deadline = monotonicNanoseconds() &+ UInt64(clamping: timeout.wholeNanoseconds)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard !Task.isCancelled else {
                    continuation.resume(throwing: Self.cancelled)
                    return
                }
                let (refusal, writer) = state.withLock { state -> (String?, CheckedContinuation<Void, Never>?) in
                    if let reason = state.closed { return (reason, nil) }
                    state.queued.append(Waiter(ticket: ticket, item: item, deadline: deadline, continuation: continuation))
                    return (nil, state.idle.popLast())
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

    /// Writes batches with `write`, `writers` at a time, until cancelled;
    /// then fails the items still waiting and refuses new ones.
    package func run(_ write: @escaping Write) async {
        await withDiscardingTaskGroup { group in
            for _ in 0..<writers {
                group.addTask { [self] in
                    while let batch = await nextBatch() {
                        await self.write(batch, with: write)
                    }
                }
            }
        }
        close(because: "the PostgreSQL inbox is shut down")
    }

    /// Fails the items waiting and refuses new ones with `reason`.
    package func close(because reason: String) {
        let (waiters, idle, refusal) = state.withLock { state in
            if state.closed == nil { state.closed = reason }
            defer {
                state.queued = []
                state.idle = []
            }
            return (state.queued, state.idle, state.closed ?? reason)
        }
        for writer in idle { writer.resume() }
        for waiter in waiters { waiter.continuation.resume(throwing: StoreError.unavailable(refusal)) }
    }

    private static var cancelled: StoreError {
        .unavailable("the request was cancelled before PostgreSQL answered")
    }

    /// The next batch, waiting for one if need be; nil once cancelled or closed.
    private func nextBatch() async -> [Waiter]? {
        while !Task.isCancelled {
            guard let batch = take() else { return nil }
            if !batch.isEmpty { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { writer in
                    let ready = state.withLock { state in
                        guard state.queued.isEmpty, state.closed == nil else { return true }
                        state.idle.append(writer)
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

    /// Up to `batchLimit` waiting items, oldest first, one per conflict key; nil once closed.
    private func take() -> [Waiter]? {
        state.withLock { state in
            guard state.closed == nil else { return nil }
            guard let conflictKey else {
                let batch = Array(state.queued.prefix(batchLimit))
                state.queued.removeFirst(batch.count)
                return batch
            }
            var batch: [Waiter] = []
            var keys = Set<String>()
            var left: [Waiter] = []
            for waiter in state.queued {
                if batch.count < batchLimit, keys.insert(conflictKey(waiter.item)).inserted {
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
    /// waited is not written.
    private func write(_ batch: [Waiter], with write: Write) async {
        let now = monotonicNanoseconds()
        var live: [Waiter] = []
        for waiter in batch {
            if waiter.deadline > now {
                live.append(waiter)
            } else {
                waiter.continuation.resume(throwing: StoreError.unavailable("PostgreSQL did not answer within \(timeout)"))
            }
        }
        guard let earliest = live.map(\.deadline).min() else { return }
        switch await write(live.map(\.item), .nanoseconds(earliest - now)) {
        case .success(let answers) where answers.count == live.count:
            for (waiter, answer) in zip(live, answers) { waiter.continuation.resume(returning: answer) }
        case .success(let answers):
            let error = StoreError.unavailable("a batch of \(live.count) writes got \(answers.count) answers")
            for waiter in live { waiter.continuation.resume(throwing: error) }
        case .failure(let error):
            for waiter in live { waiter.continuation.resume(throwing: error) }
        }
    }
}

import Foundation
import Inbox

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

/// Group commit for attempt endings (see ``GroupCommit``): each caller is
/// answered whether its lease was still held. A batch holds one ending per
/// event, so that it ends exactly as the same calls made one after another
/// would (a second ending of an event waits for the next batch), and one
/// batch is written at a time, for the same reason.
package struct AttemptEndings: Sendable {
    /// Writes `batch` within `timeout`: the ids of the events it finished
    /// (whose lease was held), or the error that every caller gets.
    package typealias Write =
        @Sendable (_ batch: [AttemptEnding], _ timeout: Duration) async -> Result<Set<String>, StoreError>

    private let commit: GroupCommit<AttemptEnding, Bool>

    package init(batchLimit: Int = 64, timeout: Duration) {
        commit = GroupCommit(batchLimit: batchLimit, timeout: timeout, conflictKey: { $0.id })
    }

    /// How many endings wait for a batch (not those being written).
    package var waiting: Int { commit.waiting }

    /// Waits until `ending` is written (or its batch failed): true when the
    /// lease was held and the event took the new state.
    package func end(_ ending: AttemptEnding) async throws -> Bool { try await commit.submit(ending) }

    /// Writes batches with `write` until cancelled; then fails the endings
    /// still waiting and refuses new ones.
    package func run(_ write: @escaping Write) async {
        await commit.run { batch, timeout in
            await write(batch, timeout).map { finished in batch.map { finished.contains($0.id) } }
        }
    }

    /// Fails the endings waiting and refuses new ones with `reason`.
    package func close(because reason: String) { commit.close(because: reason) }
}

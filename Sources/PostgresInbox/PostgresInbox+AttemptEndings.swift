import Foundation
import Inbox
import PostgresNIO

extension PostgresInbox {
    /// Writes a batch of attempt endings (see ``AttemptEndings``) in one
    /// statement, so in one commit: each event takes its new state only for
    /// the current lease owner; each attempt is kept in its event's history
    /// (as lease-lost where the lease was not held, nothing for an unknown
    /// event), dropping attempts beyond the last ``EventHistory/attemptsKept``
    /// of each event. Returns the ids of the events finished.
    ///
    /// A batch has one ending per event, so every part reads the snapshot
    /// from before the statement as a single ending would: the trim keeps
    /// one fewer old attempts, for the one inserted. Rows are locked in id
    /// order, so that two replicas' batches meet in the same order.
    func writeEndings(_ batch: [AttemptEnding], timeout: Duration) async -> Result<Set<String>, StoreError> {
        let batch = batch.sorted { $0.id < $1.id }
        let ids = batch.map(\.id)
        let owners = batch.map(\.owner)
        let states = batch.map(\.state)
        let stateTimes = batch.map(\.stateAt)
        let numbers = batch.map(\.attempt.number)
        let starts = batch.map(\.attempt.startedAt)
        let ends = batch.map(\.attempt.endedAt)
        let outcomes = batch.map(\.attempt.outcome.rawValue)
        // PostgresNIO binds no arrays of optionals: the text, and whether there is one.
        let errors = batch.map { $0.attempt.error ?? "" }
        let hasErrors = batch.map { $0.attempt.error != nil }
        do {
            let finished = try await perform(timeout: timeout) { [self] client in
                // `trustpay_end_attempts` (migration 11), planned once per connection.
                var binds = PostgresBindings(capacity: 10)
                binds.append(ArrayBinding(ids))
                binds.append(ArrayBinding(owners))
                binds.append(ArrayBinding(states))
                binds.append(ArrayBinding(stateTimes))
                binds.append(ArrayBinding(numbers))
                binds.append(ArrayBinding(starts))
                binds.append(ArrayBinding(ends))
                binds.append(ArrayBinding(outcomes))
                binds.append(ArrayBinding(errors))
                binds.append(ArrayBinding(hasErrors))
                let rows = try await client.execute(Prepared<EndAttempts>(binds), logger: driverLogger)
                var finished: [String] = []
                for try await row in rows { finished = try row.decode([String].self) }
                return finished
            }
            return .success(Set(finished))
        } catch {
            return .failure(DatabaseFailure.storeError(error, timeout: timeout))
        }
    }
}

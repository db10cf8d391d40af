import Locking

/// One worker's events from its take to their recorded outcome, when the
/// store's writes wait on a group commit
/// (``IdempotencyStore/writesWaitForGroupCommit``): the worker takes its
/// next batch as soon as the handlers of the last one have returned, while
/// their outcomes still commit, instead of once they are on disk.
///
/// A worker that waited for each batch's commit ran `workers × claimBatch`
/// events per commit against the requests' one record each: records
/// committed twice as fast as completions, the hand-off filled, and about
/// two events in three were recorded pending and claimed with a write of
/// their own, ~100,000 instructions more each (BENCHMARKS.md, sessions 13
/// and 14).
///
/// Bounded both ways: the handlers of one batch at a time (never more than
/// a batch run at once, as before), and at most `recordingLimit` outcomes
/// still committing when the worker takes more, so that a store that
/// slows down slows the worker rather than piling up writes.
final class PipelinedBatches: Sendable {
    private struct State {
        /// Events of the current batch whose handlers have not returned.
        var running = 0
        /// Events whose handlers returned and whose outcome is not recorded yet.
        var recording = 0
        /// The worker, in ``readyForMore()``.
        var waiting: UnsafeContinuation<Void, Never>?
        /// An outcome was recorded since the worker's last claim began.
        var recordedSinceClaim = false
        /// The worker sleeps (nothing to take or claim) with outcomes still being recorded.
        var idle = false
    }

    private let state = Locked(State())
    let recordingLimit: Int

    init(recordingLimit: Int) {
        self.recordingLimit = max(0, recordingLimit)
    }

    /// A batch of `count` events is starting.
    func taking(_ count: Int) {
        state.withLock { $0.running += count }
    }

    /// One event's handlers returned (or never started); its outcome is being recorded.
    func handlersReturned() {
        resume { state in
            state.running -= 1
            state.recording += 1
        }
    }

    /// One event's outcome is recorded (or was not this worker's to
    /// record). True when the worker sleeps and should be woken: the
    /// completion may have let an order's next event go, which only a
    /// claim finds.
    func recorded() -> Bool {
        var wake = false
        resume { state in
            state.recording -= 1
            state.recordedSinceClaim = true
            wake = state.idle
            state.idle = false
        }
        return wake
    }

    /// Returns once the handlers of every event taken have returned and at
    /// most `recordingLimit` outcomes are still being recorded. Not
    /// cancellable: it waits only for the worker's own events, as the
    /// worker's task group would at its end.
    func readyForMore() async {
        await withUnsafeContinuation { continuation in
            let ready = state.withLock { state in
                if readyForMore(state) { return true }
                state.waiting = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// The worker is about to claim.
    func claiming() {
        state.withLock { $0.recordedSinceClaim = false }
    }

    /// The worker found nothing to take or claim: whether it may sleep.
    /// Not when one of its outcomes was recorded since its claim began
    /// (that claim may have run before the commit that let an order's
    /// next event go: it claims again at once, as a worker that waited for
    /// each commit did after every batch). With outcomes still being
    /// recorded, it sleeps until one is (``recorded()`` says to wake a
    /// worker), an event is handed over, or the poll interval passes.
    func mayIdle() -> Bool {
        state.withLock { state in
            if state.recordedSinceClaim { return false }
            state.idle = state.recording > 0
            return true
        }
    }

    /// The worker woke up.
    func awake() {
        state.withLock { $0.idle = false }
    }

    /// Whether the worker waits here (for tests).
    var isWaiting: Bool { state.withLock { $0.waiting != nil } }

    private func readyForMore(_ state: State) -> Bool {
        state.running == 0 && state.recording <= recordingLimit
    }

    private func resume(after change: (inout State) -> Void) {
        let waiting = state.withLock { state -> UnsafeContinuation<Void, Never>? in
            change(&state)
            guard let waiting = state.waiting, readyForMore(state) else { return nil }
            state.waiting = nil
            return waiting
        }
        waiting?.resume()
    }
}

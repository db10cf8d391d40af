import Deadlines
import Foundation
import Inbox
import Locking

/// The handler attempts under way in one runner of a worker (see
/// ``ShiftSupervisor``), each due to end by the handler timeout.
///
/// A worker runs its handlers in its own task rather than in a task per
/// attempt, as ``withDeadline(_:timer:_:)`` would: a task per attempt, its
/// cancellation handler and two trips through the handler executor's queue
/// cost ~21,500 instructions per callback on the memory path, about a
/// seventh of all (callgrind, BENCHMARKS.md session 12). The deadline's
/// contract stays: an attempt's outcome is recorded within the handler
/// timeout whether or not its handler returns. An attempt that overruns is
/// taken out of the shift by the shift's alarm and handed to the
/// supervisor, which records it as timed out, cancels this runner and
/// starts another: the stuck handler takes only its own runner with it,
/// abandoned, as a task per attempt would have been.
///
/// One alarm per shift, not one per attempt: attempts last microseconds
/// and the timeout seconds, so the alarm an attempt set almost always finds
/// it gone. It is set when the first attempt begins and none is armed; when
/// it fires it hands over the attempts past their deadline and is set again
/// for the earliest of the rest. Scheduling and cancelling an alarm per
/// attempt cost ~3,000 instructions per callback (callgrind, BENCHMARKS.md
/// session 14).
///
/// Whoever takes an attempt out first decides it: its runner when the
/// handlers return (``finish(_:)`` is true), or else the alarm or the
/// supervisor's cancellation, and then the runner records nothing.
final class WorkerShift: Sendable {
    /// An attempt under way: what the supervisor needs to record it.
    struct Attempt: Sendable {
        let serial: Int
        let event: InboxEvent
        let owner: String
        let startedAt: Date
        /// When its handlers must have returned.
        let deadline: SuspendingClock.Instant
    }

    /// A running attempt's ticket.
    struct Ticket {
        fileprivate let serial: Int
    }

    private struct State {
        /// At most a claim batch, oldest first (so in order of deadline).
        var running: [Attempt] = []
        var nextSerial = 0
        /// The shift's alarm is set (and has not fired yet).
        var armed = false
    }

    private let state = Locked(State())
    private let supervisor: ShiftSupervisor
    private let timeout: Duration
    private let timer: any DeadlineTimer

    init(supervisor: ShiftSupervisor, timeout: Duration, timer: any DeadlineTimer) {
        self.supervisor = supervisor
        self.timeout = timeout
        self.timer = timer
    }

    /// Starts an attempt's clock.
    func begin(_ event: InboxEvent, owner: String, startedAt: Date) -> Ticket {
        let deadline = SuspendingClock.now.advanced(by: timeout)
        // Not returned as a tuple: an unspecialised `withLock` would look up
        // the tuple's type metadata on every call.
        var arm = false
        let serial = state.withLock { state in
            defer { state.nextSerial += 1 }
            state.running.append(
                Attempt(serial: state.nextSerial, event: event, owner: owner, startedAt: startedAt, deadline: deadline))
            arm = !state.armed
            state.armed = true
            return state.nextSerial
        }
        if arm { setAlarm(after: timeout) }
        return Ticket(serial: serial)
    }

    /// Ends an attempt whose handlers returned: true if it is still this
    /// runner's to record, false if the alarm or a cancellation decided it.
    func finish(_ ticket: Ticket) -> Bool {
        state.withLock { state in
            guard let index = state.running.firstIndex(where: { $0.serial == ticket.serial }) else { return false }
            state.running.remove(at: index)
            return true
        }
    }

    /// Every attempt still under way, taken out: the supervisor's, when its
    /// worker is cancelled and answers for them at once.
    func takeAll() -> [Attempt] {
        state.withLock { state in
            defer { state.running.removeAll() }
            return state.running
        }
    }

    private func setAlarm(after delay: Duration) {
        _ = timer.schedule(after: delay) { [self] in alarmFired() }
    }

    /// On the timer's thread: the attempts past their deadline go to the
    /// supervisor; the alarm is set again for the earliest of the others.
    private func alarmFired() {
        let now = SuspendingClock.now
        let (overran, next) = state.withLock { state -> ([Attempt], Duration?) in
            // A millisecond's grace: the timer's clock and this one are read apart.
            let overran = state.running.filter { $0.deadline <= now.advanced(by: .milliseconds(1)) }
            state.running.removeAll { $0.deadline <= now.advanced(by: .milliseconds(1)) }
            guard let earliest = state.running.map(\.deadline).min() else {
                state.armed = false
                return (overran, nil)
            }
            return (overran, now.duration(to: earliest))
        }
        if let next { setAlarm(after: next) }
        for attempt in overran { supervisor.post(.overran(attempt, self)) }
    }
}

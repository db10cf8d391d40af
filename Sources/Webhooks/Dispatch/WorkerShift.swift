import Deadlines
import Foundation
import Inbox
import Locking

/// The handler attempts under way in one runner of a worker (see
/// ``ShiftSupervisor``), each with its alarm at the handler timeout.
///
/// A worker runs its handlers in its own task rather than in a task per
/// attempt, as ``withDeadline(_:timer:_:)`` would: a task per attempt, its
/// cancellation handler and two trips through the handler executor's queue
/// cost ~21,500 instructions per callback on the memory path, about a
/// seventh of all (callgrind, BENCHMARKS.md session 12). The deadline's
/// contract stays: an attempt's outcome is recorded within the handler
/// timeout whether or not its handler returns. An attempt that overruns is
/// taken out of the shift by its alarm and handed to the supervisor, which
/// records it as timed out, cancels this runner and starts another: the
/// stuck handler takes only its own runner with it, abandoned, as a task
/// per attempt would have been.
///
/// Whoever takes an attempt out first decides it: its runner when the
/// handlers return (``finish(_:)`` is true), or else its alarm or the
/// supervisor's cancellation, and then the runner records nothing.
final class WorkerShift: Sendable {
    /// An attempt under way: what the supervisor needs to record it.
    struct Attempt: Sendable {
        let serial: Int
        let event: InboxEvent
        let owner: String
        let startedAt: Date
    }

    /// A running attempt's ticket: its serial and alarm.
    struct Ticket {
        fileprivate let serial: Int
        fileprivate let alarm: DeadlineAlarm
    }

    private struct State {
        /// At most a claim batch.
        var running: [Attempt] = []
        var nextSerial = 0
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
        let serial = state.withLock { state in
            defer { state.nextSerial += 1 }
            state.running.append(Attempt(serial: state.nextSerial, event: event, owner: owner, startedAt: startedAt))
            return state.nextSerial
        }
        let alarm = timer.schedule(after: timeout) { [self] in
            if let attempt = take(serial) { supervisor.post(.overran(attempt, self)) }
        }
        return Ticket(serial: serial, alarm: alarm)
    }

    /// Ends an attempt whose handlers returned: true if it is still this
    /// runner's to record, false if its alarm or a cancellation decided it.
    func finish(_ ticket: Ticket) -> Bool {
        ticket.alarm.cancel()
        return take(ticket.serial) != nil
    }

    /// Every attempt still under way, taken out: the supervisor's, when its
    /// worker is cancelled and answers for them at once.
    func takeAll() -> [Attempt] {
        state.withLock { state in
            defer { state.running.removeAll() }
            return state.running
        }
    }

    private func take(_ serial: Int) -> Attempt? {
        state.withLock { state in
            guard let index = state.running.firstIndex(where: { $0.serial == serial }) else { return nil }
            return state.running.remove(at: index)
        }
    }
}

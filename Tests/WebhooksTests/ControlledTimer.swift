import Deadlines
import Locking

/// A deadline timer the test ends by hand: it records the limits asked for
/// and fires them when released (at once, for any scheduled afterwards).
final class ControlledTimer: DeadlineTimer {
    private struct State {
        var requested: [Duration] = []
        var released = false
        var waiting: [ObjectIdentifier: @Sendable () -> Void] = [:]
    }
    private let state = Locked(State())

    var requested: [Duration] { state.withLock { $0.requested } }

    func schedule(after limit: Duration, _ expire: @escaping @Sendable () -> Void) -> DeadlineAlarm {
        let alarm = DeadlineAlarm { [state] alarm in
            _ = state.withLock { $0.waiting.removeValue(forKey: ObjectIdentifier(alarm)) }
        }
        let released = state.withLock { state in
            state.requested.append(limit)
            if !state.released { state.waiting[ObjectIdentifier(alarm)] = expire }
            return state.released
        }
        if released { expire() }
        return alarm
    }

    /// Every limit asked for so far passes.
    func releaseAll() {
        let waiting = state.withLock { state in
            state.released = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for expire in waiting { expire() }
    }
}

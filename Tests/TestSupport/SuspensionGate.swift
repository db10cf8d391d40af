import Locking

/// Suspends the tasks that wait on it, ignoring their cancellation, until
/// opened: a handler or an operation that does not notice its deadline.
package final class SuspensionGate: Sendable {
    private let state = Locked((open: false, waiting: [CheckedContinuation<Void, Never>](), arrived: 0))

    package init() {}

    package func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                state.arrived += 1
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    /// How many waits have begun, whether or not they still wait.
    package var arrived: Int { state.withLock { $0.arrived } }

    package func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

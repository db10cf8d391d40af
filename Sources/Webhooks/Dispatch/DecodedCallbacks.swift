import Locking
import TrustPay

/// A callback as the intake decoded it, handed to the dispatch so that it
/// does not parse the stored body again.
enum DecodedCallback: Sendable {
    case payment(PaymentCallback)
    case card(CardCallback)
}

/// Callbacks this process decoded and recorded, by event id, until a worker
/// of this process takes them for the first attempt.
///
/// Only a shortcut: an event claimed without an entry here (recorded by
/// another replica or before a restart, a retry, an entry evicted) is decoded
/// from its stored body as before. Bounded: past `capacity` the oldest entry
/// goes, so events claimed elsewhere (PostgreSQL replicas) cannot grow it.
final class DecodedCallbacks: Sendable {
    private struct State {
        var byID: [String: DecodedCallback] = [:]
        /// Ids in the order they were kept, from `head` on (taken ones included).
        var order: [String] = []
        var head = 0
    }
    private let state = Locked(State())
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    func keep(_ callback: DecodedCallback, for id: String) {
        state.withLock { state in
            state.byID[id] = callback
            state.order.append(id)
            while state.byID.count > capacity, state.head < state.order.count {
                state.byID[state.order[state.head]] = nil
                state.head += 1
            }
            // Taken entries leave their ids behind: drop the consumed prefix
            // once it is the larger part, so `order` stays O(capacity).
            if state.head > 1024 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            if state.order.count - state.head > 4 * capacity {
                // Mostly ids already taken: rebuild from what is kept.
                state.order = state.order[state.head...].filter { state.byID[$0] != nil }
                state.head = 0
            }
        }
    }

    func take(_ id: String) -> DecodedCallback? {
        state.withLock { $0.byID.removeValue(forKey: id) }
    }
}

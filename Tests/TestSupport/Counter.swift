import Synchronization

/// A counter shared with handlers.
package final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    package init() {}

    @discardableResult package func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
    package var count: Int { value.load(ordering: .relaxed) }
}

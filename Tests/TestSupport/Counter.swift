import Synchronization

/// A counter shared with handlers.
public final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    public init() {}

    @discardableResult public func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
    public var count: Int { value.load(ordering: .relaxed) }
}

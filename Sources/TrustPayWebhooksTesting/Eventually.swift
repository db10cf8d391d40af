/// Thrown by ``eventually(timeout:_:)`` when the condition never held.
public struct EventuallyTimedOut: Error, CustomStringConvertible {
    public let timeout: Duration
    public let what: String
    public var description: String { "\(what) did not happen within \(timeout)" }
}

/// Suspends until `condition` holds, checking every few milliseconds, or
/// throws ``EventuallyTimedOut`` after `timeout`. For asynchronous effects
/// such as handlers run by background workers; keep the timeout generous:
/// the default, 30 s, absorbs a whole test suite competing for two cores (a
/// retry test once needed more than 10 s there).
public func eventually(
    _ what: String = "the condition", timeout: Duration = .seconds(30),
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else { throw EventuallyTimedOut(timeout: timeout, what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

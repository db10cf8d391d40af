import Durations

/// When a failed handler runs again: exponential backoff with jitter, up to
/// a number of attempts, after which the event becomes a dead letter.
///
/// The delay before attempt `n + 1` is `initialDelay × multiplier^(n-1)`,
/// capped at `maxDelay`, then shortened by a random fraction of up to
/// `jitter` so that events failing together do not retry together.
///
/// ```swift
/// // 1 s, 2 s, 4 s, … up to 5 min; 8 attempts in all.
/// let schedule = RetrySchedule(maxAttempts: 8, initialDelay: .seconds(1), multiplier: 2, maxDelay: .seconds(300))
/// ```
public struct RetrySchedule: Sendable, Equatable {
    /// Runs in all, the first included; at least 1.
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var multiplier: Double
    public var maxDelay: Duration
    /// 0 (none) … 1 (anywhere between zero and the full delay).
    public var jitter: Double

    public init(
        maxAttempts: Int = 8, initialDelay: Duration = .seconds(1), multiplier: Double = 2,
        maxDelay: Duration = .seconds(300), jitter: Double = 0.2
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialDelay = initialDelay
        self.multiplier = max(1, multiplier)
        self.maxDelay = maxDelay
        self.jitter = min(1, max(0, jitter))
    }

    public static let standard = RetrySchedule()

    /// The wait after failed attempt `attempt` (1-based), or `nil` when it
    /// was the last one. `random` is in `0..<1`.
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0..<1)) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        var seconds = initialDelay.seconds
        for _ in 1..<max(1, attempt) {
            seconds *= multiplier
            if seconds >= maxDelay.seconds { break }
        }
        seconds = min(seconds, maxDelay.seconds)
        seconds *= 1 - jitter * min(max(random, 0), 1)
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

import Foundation

/// `Duration` is the package's one type for time spans; these are its one
/// set of conversions to the units other APIs take (`Date` arithmetic,
/// SQLite's busy timeout, NIO's `TimeAmount`, SQL intervals).
extension Duration {
    /// In seconds, for `Date` and `TimeInterval` arithmetic.
    package var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// Whole milliseconds, rounded toward zero; saturating instead of
    /// trapping past `Int64`'s range (a configured "300 years").
    package var wholeMilliseconds: Int64 { scaled(by: 1000, attosecondsPerUnit: 1_000_000_000_000_000) }

    /// Whole nanoseconds, rounded toward zero; saturating like ``wholeMilliseconds``.
    package var wholeNanoseconds: Int64 { scaled(by: 1_000_000_000, attosecondsPerUnit: 1_000_000_000) }

    private func scaled(by unitsPerSecond: Int64, attosecondsPerUnit: Int64) -> Int64 {
        let (whole, fraction) = components
        let (product, overflow) = whole.multipliedReportingOverflow(by: unitsPerSecond)
        if overflow { return whole < 0 ? .min : .max }
        let (sum, sumOverflow) = product.addingReportingOverflow(fraction / attosecondsPerUnit)
        return sumOverflow ? (whole < 0 ? .min : .max) : sum
    }
}

extension Date {
    /// This date moved by `duration` (back, when it is negative).
    package func adding(_ duration: Duration) -> Date {
        addingTimeInterval(duration.seconds)
    }
}

import TrustPay
import Webhooks
import Locking

/// Records what the handlers saw, for assertions.
///
/// ```swift
/// let recorder = HandlerRecorder()
/// recorder.register(on: &webhooks)
/// …
/// let events = try await recorder.waitForPayments(2)
/// #expect(events.map(\.callback.status) == [.unliquidated, .refunded])
/// ```
public final class HandlerRecorder: Sendable {
    private struct Seen {
        var payments: [PaymentEvent] = []
        var cards: [CardEvent] = []
        var conflicts: [ConflictReport] = []
        var riskRequests: [RiskControlRequest] = []
    }
    private let seen = Locked(Seen())

    public init() {}

    /// Registers payment, card and conflict handlers that record and succeed.
    /// Add failing handlers of your own after it to test retries: the
    /// recorder then sees every attempt.
    public func register(on server: inout WebhookServer) {
        server.onPayment { [self] event in record(event) }
        server.onCard { [self] event in record(event) }
        server.onConflict { [self] report in record(report) }
    }

    public func record(_ event: PaymentEvent) { seen.withLock { $0.payments.append(event) } }
    public func record(_ event: CardEvent) { seen.withLock { $0.cards.append(event) } }
    public func record(_ report: ConflictReport) { seen.withLock { $0.conflicts.append(report) } }
    public func record(_ request: RiskControlRequest) { seen.withLock { $0.riskRequests.append(request) } }

    public var payments: [PaymentEvent] { seen.withLock { $0.payments } }
    public var cards: [CardEvent] { seen.withLock { $0.cards } }
    public var conflicts: [ConflictReport] { seen.withLock { $0.conflicts } }
    public var riskRequests: [RiskControlRequest] { seen.withLock { $0.riskRequests } }

    /// Waits until at least `count` payment events were seen; returns them all.
    public func waitForPayments(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [PaymentEvent] {
        try await eventually("\(count) payment event(s)", timeout: timeout) { self.payments.count >= count }
        return payments
    }

    public func waitForCards(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [CardEvent] {
        try await eventually("\(count) card event(s)", timeout: timeout) { self.cards.count >= count }
        return cards
    }

    public func waitForConflicts(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [ConflictReport] {
        try await eventually("\(count) conflict report(s)", timeout: timeout) { self.conflicts.count >= count }
        return conflicts
    }
}

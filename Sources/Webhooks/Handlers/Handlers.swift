import TrustPay

/// The merchant's code, as registered on ``WebhookServer``.
///
/// Payment and card handlers run in registration order; a throw fails the
/// attempt, and the next attempt runs every handler of the kind again, so
/// each must be idempotent (key its effects by ``DeliveryAttempt/eventID``).
public struct Handlers: Sendable {
    public typealias Payment = @Sendable (PaymentEvent) async throws -> Void
    public typealias Card = @Sendable (CardEvent) async throws -> Void
    public typealias Conflict = @Sendable (ConflictReport) async -> Void
    public typealias RiskControl = @Sendable (RiskControlRequest) async throws -> RiskDecision

    public var payment: [Payment] = []
    public var card: [Card] = []
    public var conflict: [Conflict] = []
    /// At most one: it answers the request. Without one, risk control answers `503`.
    public var riskControl: RiskControl?

    public init() {}
}

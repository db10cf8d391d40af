import Deadlines
/// A route that receives payment callbacks (the `notify_url` of payin and payout orders).
public struct PaymentRoute: Sendable, Equatable {
    public var path: String
    public var dispatch: DispatchMode

    public init(path: String, dispatch: DispatchMode = .afterStore) {
        self.path = path
        self.dispatch = dispatch
    }
}

/// A route that receives card callbacks (the `notify_url` of card orders).
///
/// Card callbacks name no merchant, so the route decides: `merchantID` when
/// set; otherwise the `merchant` query parameter of the request
/// (`/trustpay/card?merchant=8820250900009`, put in the notify URL); otherwise
/// the only configured merchant. A merchant that is not configured is `403`.
public struct CardRoute: Sendable, Equatable {
    public var path: String
    public var merchantID: Int64?
    public var dispatch: DispatchMode

    public init(path: String, merchantID: Int64? = nil, dispatch: DispatchMode = .afterStore) {
        self.path = path
        self.merchantID = merchantID
        self.dispatch = dispatch
    }
}

/// Everything about the pipeline but the handlers and the store.
///
/// ```swift
/// var configuration = WebhookConfiguration(merchants: [Merchant(id: 8820250900009, secret: secret)])
/// configuration.paymentRoutes = [PaymentRoute(path: "/trustpay/payment", dispatch: .afterHandler)]
/// configuration.retrySchedule = RetrySchedule(maxAttempts: 5)
/// ```
public struct WebhookConfiguration: Sendable {
    public var merchants: MerchantDirectory
    /// Default: `POST /trustpay/payment`, after store.
    public var paymentRoutes = [PaymentRoute(path: "/trustpay/payment")]
    /// Default: `POST /trustpay/card`, merchant from the query or the only one.
    public var cardRoutes = [CardRoute(path: "/trustpay/card")]
    /// `POST`; `nil` to not serve risk control.
    public var riskControlPath: String? = "/trustpay/risk-control"
    /// `GET`, always `200` (answered on the event loop).
    public var healthPath: String? = "/healthz"
    /// `GET`, `200` when the store answers, else `503`.
    public var readinessPath: String? = "/readyz"
    public var retrySchedule = RetrySchedule.standard
    /// Completed events are deleted this long after completion (the
    /// ``RetentionSweep`` that ``WebhookServer/run(http:gracefulShutdownSignals:)``
    /// runs, for a store that is an `InboxAdministration`); `nil` keeps them.
    /// At least as long as TrustPay may redeliver: a forgotten key is new again.
    public var keepCompleted: Duration? = .seconds(7 * 24 * 3600)
    /// One attempt at an event's handlers may take this long; for
    /// after-handler routes it is also how long TrustPay waits for the answer.
    public var handlerTimeout: Duration = .seconds(10)
    /// Risk control answers `503` when the handler takes longer.
    public var riskControlDeadline: Duration = .seconds(3)
    /// What keeps the risk-control deadline: tests replace it to see the
    /// deadline asked for and end it without a wall clock.
    var riskControlTimer: any DeadlineTimer = DeadlineThread.shared
    /// How long a claim on an event lasts; longer than `handlerTimeout`, so
    /// that a live worker is never taken over.
    public var leaseDuration: Duration = .seconds(60)
    /// Background loops that claim due events.
    public var workers = 4
    /// Events one claim takes; a worker runs their handlers at once, so up
    /// to `workers × claimBatch` run together. Claiming several per store
    /// round trip is what lets the handlers keep up with a busy inbox: with
    /// one per claim they fell behind at a few hundred events per second,
    /// each claim and completion waiting its turn on the SQLite writer.
    public var claimBatch = 8
    /// Workers look for due events at least this often even when not woken
    /// (events recorded by other replicas, expired leases).
    public var pollInterval: Duration = .seconds(5)
    /// A worker busy with events handed over by this process's requests
    /// claims from the store beside them at most this often after a claim
    /// that found nothing, unless events were recorded pending or held
    /// meanwhile (``ClaimPacing``): the longest an event that only a claim
    /// finds (another replica's, a retry not signalled here) waits under load.
    public var busyClaimInterval: Duration = ClaimPacing.defaultInterval
    /// What this process's lease owners start with (`<prefix>/worker-1`):
    /// a replica's name and incarnation (`web-1#7`), so that a restarted
    /// replica can release the claims of its earlier incarnations at once.
    /// `nil`: a random id, unique to this process.
    public var leaseOwnerPrefix: String?

    public init(merchants: [Merchant] = []) {
        self.merchants = MerchantDirectory(merchants)
    }
}

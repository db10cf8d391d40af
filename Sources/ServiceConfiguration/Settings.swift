import NetworkAddresses
import Foundation

/// The standalone server's whole configuration, read from YAML with
/// environment overrides. Every key is documented in `config/README.md`.
public struct ServiceConfiguration: Sendable {
    public var server = ServerSettings()
    /// A second listener for `/metrics` and `/readyz`; nil serves them on the main one.
    public var admin: ListenerSettings?
    public var store = StoreSettings()
    public var merchants: [MerchantSettings] = []
    public var routes = RouteSettings()
    public var handlers: [HandlerSettings] = []
    public var retry = RetrySettings()
    public var dispatch = DispatchWorkerSettings()
    public var security = SecuritySettings()
    public var logging = LoggingSettings()
    public var replica = ReplicaSettings()
    public var reconcile = ReconcileSettings()
    /// The file, lines and environment variables the values came from.
    public var sources = ConfigurationSources()

    public init() {}
}

public struct ListenerSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The operator console's token (`admin.token`); without it the console is off.
    public var token: SecretSource?

    public init(host: String, port: Int, token: SecretSource? = nil) {
        self.host = host
        self.port = port
        self.token = token
    }
}

public struct ServerSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// 0: one per core.
    public var eventLoops = 0
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var maxHeaderBytes = 16 * 1024
    public var maxHeaders = 100
    public var maxBodyBytes = 64 * 1024
    public var headerReadTimeout: Duration = .seconds(10)
    public var bodyReadTimeout: Duration = .seconds(30)
    public var idleTimeout: Duration = .seconds(60)
    public var writeTimeout: Duration = .seconds(30)
    public var drainTimeout: Duration = .seconds(10)
    public var maxConnections = 10_000
    /// Open connections per source address; 0: no cap.
    public var maxConnectionsPerSource = 0
}

public enum StoreKind: String, Sendable, Equatable { case sqlite, postgres, memory }

public struct StoreSettings: Sendable, Equatable {
    public var kind: StoreKind = .sqlite
    public var sqlitePath = "data/trustpay-webhooks.sqlite"
    /// `full` makes every acknowledgement survive a power cut.
    public var sqliteSynchronousFull = true
    /// Concurrent callbacks share one transaction (one fsync); `false` gives
    /// each its own, which only benchmarks want.
    public var sqliteGroupCommit = true
    public var postgresURL: SecretSource?
    public var postgresPoolSize = 8
    /// How long one store call may wait for PostgreSQL (a connection
    /// included) before the callback is answered 503.
    public var postgresTimeout: Duration = .seconds(5)
    public var keepCompleted: Duration = .seconds(30 * 86400)
    public var leaseDuration: Duration = .seconds(60)
}

/// How amounts may have been rendered when TrustPay signed. Spelt
/// `as-transmitted`, `shortest`, `two-decimals`, as the `--form` flags are;
/// the underscore spellings of earlier versions are read too.
public enum NumberFormSetting: String, Sendable, Equatable, CaseIterable {
    case asTransmitted = "as-transmitted", shortest, twoDecimals = "two-decimals"

    public init?(spelling: String) {
        self.init(rawValue: spelling.replacingOccurrences(of: "_", with: "-"))
    }
}

public struct MerchantSettings: Sendable, Equatable {
    public var id: Int64
    public var secrets: [SecretSource]
    public var numberForms: [NumberFormSetting] = NumberFormSetting.allCases
    /// TrustPay's API for this merchant (`merchants[].api`), for reconciliation.
    public var api = MerchantAPISettings()
}

/// Where and how to call TrustPay's API for one merchant. Requests are
/// signed with the merchant's first secret.
public struct MerchantAPISettings: Sendable, Equatable {
    public static let defaultBaseURL = "https://api.trustpay.money"
    public var baseURL = MerchantAPISettings.defaultBaseURL
    /// `X-Api-Key`; without it the merchant's orders are not reconciled.
    public var key: SecretSource?
}

/// The reconciliation sweep (`reconcile`): asks TrustPay's Order Query API
/// about orders whose callbacks may have been missed.
public struct ReconcileSettings: Sendable, Equatable {
    /// How often the sweep runs; zero turns it off.
    public var interval: Duration = .seconds(300)
    /// How long an order may sit in a status that is not final, or be
    /// expected without any callback, before it is queried.
    public var after: Duration = .seconds(900)
    /// Orders first seen longer ago than this are left alone.
    public var maxAge: Duration = .seconds(7 * 86400)
    /// Statuses after which an order is not queried: all but 1 (pending) and 9 (refunding).
    public var finalStatuses: [Int] = [2, 3, 4, 5, 6, 7, 8]
    /// Order queries per second, per merchant.
    public var rate = 5.0
    /// Order queries in flight at once, per merchant.
    public var concurrency = 4

    public var isEnabled: Bool { interval > .zero }
}

public enum DispatchSetting: String, Sendable, Equatable {
    case afterStore = "after-store", afterHandler = "after-handler"
}

public struct PaymentRouteSettings: Sendable, Equatable {
    public var path = "/trustpay/payment"
    public var dispatch: DispatchSetting = .afterStore
    /// `after-handler` only: how long handlers get before the answer is 500.
    public var handlerDeadline: Duration = .seconds(10)
}

public struct CardRouteSettings: Sendable, Equatable {
    public var path = "/trustpay/card"
    /// Card callbacks carry no merchant id: the route says whose they are.
    public var merchant: Int64
    public var dispatch: DispatchSetting = .afterStore
    public var handlerDeadline: Duration = .seconds(10)
}

public enum RiskDecisionSetting: String, Sendable, Equatable { case allow, deny, unavailable }

public struct RiskControlSettings: Sendable, Equatable {
    public var path = "/trustpay/risk-control"
    public var deadline: Duration = .seconds(2)
    /// The answer when no command is configured.
    public var decision: RiskDecisionSetting = .unavailable
    /// Runs with the request JSON on stdin: exit 0 allow, 1 deny, else unavailable.
    public var command: [String] = []
    /// Variables the command gets besides the safe base, as for `exec`.
    public var environment: [String] = []
}

public struct RouteSettings: Sendable, Equatable {
    public var payment = PaymentRouteSettings()
    public var cards: [CardRouteSettings] = []
    public var riskControl = RiskControlSettings()
    public var healthz = "/healthz"
    public var readyz = "/readyz"
    public var metrics = "/metrics"
}

public enum EventKindSetting: String, Sendable, Equatable, CaseIterable { case payment, card }

public enum HandlerKindSettings: Sendable, Equatable {
    case log(json: Bool)
    case jsonl(path: String)
    case forward(url: String, secret: SecretSource, timeout: Duration)
    /// `environment`: the variables its command gets besides the safe base
    /// (`NAME` passes the server's value on, `NAME=value` sets one).
    case exec(command: [String], timeout: Duration, environment: [String])
}

public struct HandlerSettings: Sendable, Equatable {
    public var name: String
    public var kind: HandlerKindSettings
    /// Which events it receives; empty lists mean all.
    public var events: [EventKindSetting] = EventKindSetting.allCases
    public var statuses: [Int] = []
}

public struct RetrySettings: Sendable, Equatable {
    public var attempts = 8
    public var initialDelay: Duration = .seconds(1)
    public var maxDelay: Duration = .seconds(600)
    public var multiplier = 2.0
    /// Each delay is randomised by ± this fraction.
    public var jitter = 0.2
}

/// The background workers that run handlers for stored events (YAML
/// `dispatch`; not to be confused with a route's `DispatchSetting`).
public struct DispatchWorkerSettings: Sendable, Equatable {
    /// Loops that claim due events.
    public var workers = 4
    /// Events one claim takes; their handlers run at once, so up to
    /// `workers × claimBatch` handlers run together.
    public var claimBatch = 8
    /// How often workers look for due events when nothing woke them: events
    /// recorded by other replicas, leases that expired.
    public var pollInterval: Duration = .seconds(5)
}

public struct SecuritySettings: Sendable, Equatable {
    /// Sources allowed on the callback routes; empty allows everyone.
    public var allow: [IPRange] = []
    /// Proxies whose `X-Forwarded-For` names the real client.
    public var trustedProxies: [IPRange] = []
    /// Requests per second per source; 0 disables the limit.
    public var rateLimit = 0.0
    public var rateBurst = 0
    /// IPv6 sources share a bucket per network of this many bits.
    public var rateIPv6Prefix = 64
}

/// Who this server is among the replicas sharing a PostgreSQL database.
public struct ReplicaSettings: Sendable, Equatable {
    /// Stable across restarts, unique among live replicas; nil: the host name.
    public var name: String?
}

public struct LoggingSettings: Sendable, Equatable {
    public var level = "info"
    public var json = false
}

import NetworkAddresses
import Foundation

/// The standalone server's whole configuration, read from YAML with
/// environment overrides. Every key is documented in `config/README.md`.
package struct ServiceSettings: Sendable {
    package var server = ServerSettings()
    /// A second listener for `/metrics` and `/readyz`; nil serves them on the main one.
    package var admin: ListenerSettings?
    package var store = StoreSettings()
    package var merchants: [MerchantSettings] = []
    package var routes = RouteSettings()
    package var handlers: [HandlerSettings] = []
    package var retry = RetrySettings()
    package var dispatch = DispatchWorkerSettings()
    package var security = SecuritySettings()
    package var logging = LoggingSettings()
    package var replica = ReplicaSettings()
    package var reconcile = ReconcileSettings()
    /// The file, lines and environment variables the values came from.
    package var sources = ConfigurationSources()

    package init() {}
}

package struct ListenerSettings: Sendable, Equatable {
    package var host: String
    package var port: Int
    /// The operator console's token (`admin.token`); without it the console is off.
    package var token: SecretSource?

    package init(host: String, port: Int, token: SecretSource? = nil) {
        self.host = host
        self.port = port
        self.token = token
    }
}

package struct ServerSettings: Sendable, Equatable {
    package var host = "127.0.0.1"
    package var port = 8080
    /// 0: one per core.
    package var eventLoops = 0
    package var tlsCertificate: String?
    package var tlsKey: String?
    package var maxHeaderBytes = 16 * 1024
    package var maxHeaders = 100
    package var maxBodyBytes = 64 * 1024
    package var headerReadTimeout: Duration = .seconds(10)
    package var bodyReadTimeout: Duration = .seconds(30)
    package var idleTimeout: Duration = .seconds(60)
    package var writeTimeout: Duration = .seconds(30)
    package var drainTimeout: Duration = .seconds(10)
    package var maxConnections = 10_000
    /// Open connections per source address; 0: no cap.
    package var maxConnectionsPerSource = 0
}

package enum StoreKind: String, Sendable, Equatable { case sqlite, postgres, memory }

package struct StoreSettings: Sendable, Equatable {
    package var kind: StoreKind = .sqlite
    package var sqlitePath = "data/trustpay-webhooks.sqlite"
    /// `full` makes every acknowledgement survive a power cut.
    package var sqliteSynchronousFull = true
    /// Concurrent callbacks share one transaction (one fsync); `false` gives
    /// each its own, which only benchmarks want.
    package var sqliteGroupCommit = true
    package var postgresURL: SecretSource?
    package var postgresPoolSize = 8
    /// How long one store call may wait for PostgreSQL (a connection
    /// included) before the callback is answered 503.
    package var postgresTimeout: Duration = .seconds(5)
    package var keepCompleted: Duration = .seconds(30 * 86400)
    package var leaseDuration: Duration = .seconds(60)
}

/// How amounts may have been rendered when TrustPay signed. Spelt
/// `as-transmitted`, `shortest`, `two-decimals`, as the `--form` flags are;
/// the underscore spellings of earlier versions are read too.
package enum NumberFormSetting: String, Sendable, Equatable, CaseIterable {
    case asTransmitted = "as-transmitted", shortest, twoDecimals = "two-decimals"

    package init?(spelling: String) {
        self.init(rawValue: spelling.replacingOccurrences(of: "_", with: "-"))
    }
}

package struct MerchantSettings: Sendable, Equatable {
    package var id: Int64
    package var secrets: [SecretSource]
    package var numberForms: [NumberFormSetting] = NumberFormSetting.allCases
    /// TrustPay's API for this merchant (`merchants[].api`), for reconciliation.
    package var api = MerchantAPISettings()
}

/// Where and how to call TrustPay's API for one merchant. Requests are
/// signed with the merchant's first secret.
package struct MerchantAPISettings: Sendable, Equatable {
    package static let defaultBaseURL = "https://api.trustpay.money"
    package var baseURL = MerchantAPISettings.defaultBaseURL
    /// `X-Api-Key`; without it the merchant's orders are not reconciled.
    package var key: SecretSource?
}

/// The reconciliation sweep (`reconcile`): asks TrustPay's Order Query API
/// about orders whose callbacks may have been missed.
package struct ReconcileSettings: Sendable, Equatable {
    /// How often the sweep runs; zero turns it off.
    package var interval: Duration = .seconds(300)
    /// How long an order may sit in a status that is not final, or be
    /// expected without any callback, before it is queried.
    package var after: Duration = .seconds(900)
    /// Orders first seen longer ago than this are left alone.
    package var maxAge: Duration = .seconds(7 * 86400)
    /// Statuses after which an order is not queried: all but 1 (pending) and 9 (refunding).
    package var finalStatuses: [Int] = [2, 3, 4, 5, 6, 7, 8]
    /// Order queries per second, per merchant.
    package var rate = 5.0
    /// Order queries in flight at once, per merchant.
    package var concurrency = 4

    package var isEnabled: Bool { interval > .zero }
}

package enum DispatchSetting: String, Sendable, Equatable {
    case afterStore = "after-store", afterHandler = "after-handler"
}

package struct PaymentRouteSettings: Sendable, Equatable {
    package var path = "/trustpay/payment"
    package var dispatch: DispatchSetting = .afterStore
    /// `after-handler` only: how long handlers get before the answer is 500.
    package var handlerDeadline: Duration = .seconds(10)
}

package struct CardRouteSettings: Sendable, Equatable {
    package var path = "/trustpay/card"
    /// Card callbacks carry no merchant id: the route says whose they are.
    package var merchant: Int64
    package var dispatch: DispatchSetting = .afterStore
    package var handlerDeadline: Duration = .seconds(10)
}

package enum RiskDecisionSetting: String, Sendable, Equatable { case allow, deny, unavailable }

package struct RiskControlSettings: Sendable, Equatable {
    package var path = "/trustpay/risk-control"
    package var deadline: Duration = .seconds(2)
    /// The answer when no command is configured.
    package var decision: RiskDecisionSetting = .unavailable
    /// Runs with the request JSON on stdin: exit 0 allow, 1 deny, else unavailable.
    package var command: [String] = []
    /// Variables the command gets besides the safe base, as for `exec`.
    package var environment: [String] = []
}

package struct RouteSettings: Sendable, Equatable {
    package var payment = PaymentRouteSettings()
    package var cards: [CardRouteSettings] = []
    package var riskControl = RiskControlSettings()
    package var healthz = "/healthz"
    package var readyz = "/readyz"
    package var metrics = "/metrics"
}

package enum EventKindSetting: String, Sendable, Equatable, CaseIterable { case payment, card }

package enum HandlerKindSettings: Sendable, Equatable {
    case log(json: Bool)
    case jsonl(path: String)
    case forward(url: String, secret: SecretSource, timeout: Duration)
    /// `environment`: the variables its command gets besides the safe base
    /// (`NAME` passes the server's value on, `NAME=value` sets one).
    case exec(command: [String], timeout: Duration, environment: [String])
}

package struct HandlerSettings: Sendable, Equatable {
    package var name: String
    package var kind: HandlerKindSettings
    /// Which events it receives; empty lists mean all.
    package var events: [EventKindSetting] = EventKindSetting.allCases
    package var statuses: [Int] = []
}

package struct RetrySettings: Sendable, Equatable {
    package var attempts = 8
    package var initialDelay: Duration = .seconds(1)
    package var maxDelay: Duration = .seconds(600)
    package var multiplier = 2.0
    /// Each delay is randomised by ± this fraction.
    package var jitter = 0.2
}

/// The background workers that run handlers for stored events (YAML
/// `dispatch`; not to be confused with a route's `DispatchSetting`).
package struct DispatchWorkerSettings: Sendable, Equatable {
    /// Loops that claim due events.
    package var workers = 4
    /// Events one claim takes; their handlers run at once, so up to
    /// `workers × claimBatch` handlers run together.
    package var claimBatch = 8
    /// How often workers look for due events when nothing woke them: events
    /// recorded by other replicas, leases that expired.
    package var pollInterval: Duration = .seconds(5)
}

package struct SecuritySettings: Sendable, Equatable {
    /// Sources allowed on the callback routes; empty allows everyone.
    package var allow: [IPRange] = []
    /// Proxies whose `X-Forwarded-For` names the real client.
    package var trustedProxies: [IPRange] = []
    /// Requests per second per source; 0 disables the limit.
    package var rateLimit = 0.0
    package var rateBurst = 0
    /// IPv6 sources share a bucket per network of this many bits.
    package var rateIPv6Prefix = 64
}

/// Who this server is among the replicas sharing a PostgreSQL database.
package struct ReplicaSettings: Sendable, Equatable {
    /// Stable across restarts, unique among live replicas; nil: the host name.
    package var name: String?
}

package struct LoggingSettings: Sendable, Equatable {
    package var level = "info"
    package var json = false
}

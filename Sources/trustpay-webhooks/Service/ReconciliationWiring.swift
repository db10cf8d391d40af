import AsyncHTTPClient
import Foundation
import Inbox
import Logging
import Reconciliation
import ServiceConfiguration
import TrustPay
import TrustPayAPI
import Webhooks

/// The reconciliation `serve` runs beside the workers: an API client for the
/// merchants with an API key, and the sweep. Merchants without a key are
/// named in the log at start.
struct ReconciliationWiring {
    let sweep: ReconciliationSweep
    /// Shared by every query; shut down after the sweep stops.
    let http: HTTPClient

    /// `nil` when reconciliation is off (interval 0, or no merchant with a
    /// key), which the log says.
    static func make(
        _ config: ServiceSettings, environment: [String: String], store: any ServedInbox,
        pipeline: WebhookPipeline, owner: String, logger: Logger
    ) throws -> ReconciliationWiring? {
        guard config.reconcile.isEnabled else {
            logger.info("reconciliation off: reconcile.interval is 0")
            return nil
        }
        let apis = try apiConfigurations(config, environment: environment, logger: logger)
        guard !apis.isEmpty else {
            logger.info("reconciliation off: no merchant has an API key (merchants[].api.key)")
            return nil
        }
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
        let client: TrustPayAPIClient
        do {
            client = try TrustPayAPIClient(httpClient: http, merchants: apis, logger: logger)
        } catch {
            try? http.syncShutdown()
            throw ConfigurationError(key: "merchants[].api", message: error.description)
        }
        let reconciler = Reconciler(
            client: client, merchants: Set(apis.keys), record: { try await pipeline.recordReconciled($0) },
            logger: logger)
        let reconcile = config.reconcile
        let policy = ReconciliationPolicy(
            interval: reconcile.interval, after: reconcile.after, maxAge: reconcile.maxAge,
            finalStatuses: Set(reconcile.finalStatuses), concurrency: reconcile.concurrency * apis.count)
        logger.info(
            "reconciliation on",
            metadata: [
                "merchants": "\(apis.keys.sorted().map(String.init).joined(separator: ","))",
                "interval": "\(reconcile.interval)", "after": "\(reconcile.after)",
            ])
        return ReconciliationWiring(
            sweep: ReconciliationSweep(
                store: store, reconciler: reconciler, policy: policy, owner: owner, logger: logger),
            http: http)
    }

    /// Each merchant with `api.key`, its key resolved and requests signed
    /// with its first secret; the others are logged.
    static func apiConfigurations(
        _ config: ServiceSettings, environment: [String: String], logger: Logger
    ) throws -> [Int64: TrustPayAPIConfiguration] {
        var apis: [Int64: TrustPayAPIConfiguration] = [:]
        for (index, merchant) in config.merchants.enumerated() {
            guard let source = merchant.api.key else {
                logger.info(
                    "reconciliation off for merchant \(merchant.id): merchants[\(index)].api.key is not set")
                continue
            }
            apis[merchant.id] = try apiConfiguration(merchant, index: index, key: source, config, environment: environment)
        }
        return apis
    }

    static func apiConfiguration(
        _ merchant: MerchantSettings, index: Int, key source: SecretSource, _ config: ServiceSettings,
        environment: [String: String]
    ) throws -> TrustPayAPIConfiguration {
        let key = try source.resolve(key: "merchants[\(index)].api.key", environment: environment).secret
        guard let first = merchant.secrets.first else {
            throw ConfigurationError(key: "merchants[\(index)].secrets", message: "at least one secret is needed")
        }
        let secret = try first.resolve(key: "merchants[\(index)].secrets[0]", environment: environment).secret
        return TrustPayAPIConfiguration(
            baseURL: merchant.api.baseURL, apiKey: key, secret: secret,
            maxConcurrentRequests: config.reconcile.concurrency, requestsPerSecond: config.reconcile.rate)
    }
}

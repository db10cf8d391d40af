import Inbox
import Logging
import ServiceConfiguration
import Testing
import Webhooks

@testable import trustpay_webhooks

/// What `serve` hands the library: settings read from YAML must reach the
/// `WebhookConfiguration`, not stop at the parsed configuration.
@Suite struct ServiceAssemblyTests {
    static func webhookConfiguration(_ yaml: String, environment: [String: String] = [:]) throws
        -> WebhookConfiguration
    {
        let config = try ServiceSettings.load(yaml: yaml, environment: environment)
        let assembly = try ServiceAssembly(config, environment: environment, logger: Logger(label: "test"))
        return assembly.webhookServer(store: MemoryInbox()).configuration
    }

    @Test func dispatchSettingsReachTheWorkers() throws {
        let webhooks = try Self.webhookConfiguration(ServiceSettings.defaultYAML + """
            dispatch:
              workers: 3
              claim_batch: 17
              poll_interval: 750ms

            """)
        #expect(webhooks.workers == 3)
        #expect(webhooks.claimBatch == 17)
        #expect(webhooks.pollInterval == .milliseconds(750))
    }

    @Test func withoutADispatchSectionTheLibraryDefaultsApply() throws {
        let webhooks = try Self.webhookConfiguration(ServiceSettings.defaultYAML)
        let library = WebhookConfiguration()
        #expect(webhooks.workers == library.workers)
        #expect(webhooks.claimBatch == library.claimBatch)
        #expect(webhooks.pollInterval == library.pollInterval)
    }

    @Test func anEnvironmentOverrideReachesTheWorkers() throws {
        let webhooks = try Self.webhookConfiguration(
            ServiceSettings.defaultYAML, environment: ["TRUSTPAY_WEBHOOKS__DISPATCH__CLAIM_BATCH": "2"])
        #expect(webhooks.claimBatch == 2)
    }

    /// Off unless configured; 0 also means off.
    @Test func theConnectionCapPerSourceReachesTheHTTPServer() throws {
        func cap(_ environment: [String: String]) throws -> Int? {
            let config = try ServiceSettings.load(yaml: ServiceSettings.defaultYAML, environment: environment)
            let assembly = try ServiceAssembly(config, environment: environment, logger: Logger(label: "test"))
            return assembly.httpConfiguration(host: nil, port: nil).maxConnectionsPerSource
        }
        let key = "TRUSTPAY_WEBHOOKS__SERVER__LIMITS__MAX_CONNECTIONS_PER_SOURCE"
        #expect(try cap([:]) == nil)
        #expect(try cap([key: "0"]) == nil)
        #expect(try cap([key: "3"]) == 3)
    }
}

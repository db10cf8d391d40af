import Foundation
import Testing
@testable import ServiceConfiguration
import NetworkAddresses

@Suite struct ConfigurationTests {
    /// The one section a file must have.
    static let merchant = "merchants:\n  - id: 7\n    secrets: [s]\n"

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func embeddedDefaultsAreExactlyConfigDefaultYAML() throws {
        let file = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("config/default.yaml"), encoding: .utf8)
        #expect(file == ServiceSettings.defaultYAML)
    }

    @Test func defaultsDescribeTheDemoMerchantOnLoopback() throws {
        let config = try ServiceSettings.load(yaml: ServiceSettings.defaultYAML, environment: [:])
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 8080)
        #expect(config.store.kind == .sqlite)
        #expect(config.store.sqlitePath == "data/trustpay-webhooks.sqlite")
        #expect(config.merchants.map(\.id) == [8820250900009])
        #expect(config.routes.cards.first?.merchant == 8820250900009)
        #expect(config.handlers.map(\.name) == ["log"])
        let secret = try config.merchants[0].secrets[0].resolve(key: "k", environment: [:])
        #expect(secret.isDevelopmentFallback)
        let real = try config.merchants[0].secrets[0].resolve(key: "k", environment: ["TRUSTPAY_SECRET": "s3"])
        #expect(real.secret == "s3" && !real.isDevelopmentFallback)
    }

    @Test func environmentOverridesFileValues() throws {
        let config = try ServiceSettings.load(
            yaml: ServiceSettings.defaultYAML,
            environment: ["TRUSTPAY_WEBHOOKS__SERVER__PORT": "9191", "TRUSTPAY_WEBHOOKS__STORE__KIND": "memory",
                          "TRUSTPAY_WEBHOOKS__RETRY__ATTEMPTS": "3"])
        #expect(config.server.port == 9191)
        #expect(config.store.kind == .memory)
        #expect(config.retry.attempts == 3)
    }

    static let errors: [(String, String)] = [
        ("server:\n  port: eighty\n", "server.port"),
        ("server:\n  port: 70000\n", "server.port"),
        ("server:\n  host: localhost\n", "server.host"),
        ("server:\n  prot: 80\n", "server.prot"),
        ("unknown_section: 1\n", "unknown_section"),
        ("merchants:\n  - id: abc\n    secrets: [x]\n", "merchants[0].id"),
        ("merchants:\n  - id: 5\n", "merchants[0].secrets"),
        ("merchants:\n  - id: 5\n    secrets:\n      - {env: A, file: b}\n", "merchants[0].secrets[0]"),
        ("routes:\n  cards:\n    - merchant: 77\n", "routes.cards[0].merchant"),
        ("routes:\n  payment:\n    dispatch: sometimes\n", "routes.payment.dispatch"),
        ("routes:\n  payment:\n    path: /healthz\n", "routes.healthz"),
        ("handlers:\n  - type: carrier-pigeon\n", "handlers[0].type"),
        ("handlers:\n  - type: forward\n    url: ftp://x\n", "handlers[0].url"),
        ("handlers:\n  - type: forward\n    url: http://127.0.0.1:9/x\n", "handlers[0].secret"),
        ("handlers:\n  - type: exec\n", "handlers[0].command"),
        ("retry:\n  initial_delay: soon\n", "retry.initial_delay"),
        ("security:\n  allow: [10.0.0.0/33]\n", "security.allow"),
        ("store:\n  kind: postgres\n", "store.postgres.url"),
        ("store:\n  lease: 15s\n", "store.lease"),
        ("store:\n  postgres:\n    timeout: 50ms\n", "store.postgres.timeout"),
        ("store:\n  postgres:\n    timeout: later\n", "store.postgres.timeout"),
        ("store:\n  lease: 30s\nroutes:\n  payment:\n    handler_deadline: 20s\n", "store.lease"),
        ("store:\n  sqlite:\n    group_commit: sometimes\n", "store.sqlite.group_commit"),
        ("server: [1, 2]\n", "server"),
        ("dispatch:\n  workers: 0\n", "dispatch.workers"),
        ("dispatch:\n  workers: 257\n", "dispatch.workers"),
        ("dispatch:\n  workers: many\n", "dispatch.workers"),
        ("dispatch:\n  claim_batch: 0\n", "dispatch.claim_batch"),
        ("dispatch:\n  claim_batch: 1001\n", "dispatch.claim_batch"),
        ("dispatch:\n  poll_interval: often\n", "dispatch.poll_interval"),
        ("dispatch:\n  poll_interval: 0s\n", "dispatch.poll_interval"),
        ("dispatch:\n  poll_interval: 5ms\n", "dispatch.poll_interval"),
        ("dispatch:\n  batch: 4\n", "dispatch.batch"),
        ("dispatch: 4\n", "dispatch"),
        ("handlers:\n  - type: exec\n    command: [x]\n    env: [\"BAD NAME\"]\n", "handlers[0].env"),
        ("handlers:\n  - type: exec\n    command: [x]\n    env: [\"=x\"]\n", "handlers[0].env"),
        ("handlers:\n  - type: log\n    env: [HOME]\n", "handlers[0].env"),
        ("routes:\n  risk_control:\n    env: [\"1X\"]\n", "routes.risk_control.env"),
        ("security:\n  rate_limit:\n    per_second: 5\n    ipv6_prefix: 0\n", "security.rate_limit.ipv6_prefix"),
        ("security:\n  rate_limit:\n    per_second: 5\n    ipv6_prefix: 129\n", "security.rate_limit.ipv6_prefix"),
        ("replica:\n  name: \"web#1\"\n", "replica.name"),
        ("replica:\n  name: \"a/b\"\n", "replica.name"),
        ("replica:\n  name: \"a b\"\n", "replica.name"),
        ("replica:\n  nmae: web-1\n", "replica.nmae"),
        ("merchants:\n  - id: 5\n    secrets: [x]\n    api:\n      base_url: ftp://api.example\n", "merchants[0].api.base_url"),
        ("merchants:\n  - id: 5\n    secrets: [x]\n    api:\n      base_url: not a url\n", "merchants[0].api.base_url"),
        ("merchants:\n  - id: 5\n    secrets: [x]\n    api:\n      key: {env: A, file: b}\n", "merchants[0].api.key"),
        ("merchants:\n  - id: 5\n    secrets: [x]\n    api:\n      token: x\n", "merchants[0].api.token"),
        ("reconcile:\n  interval: sometimes\n", "reconcile.interval"),
        ("reconcile:\n  interval: 200ms\n", "reconcile.interval"),
        ("reconcile:\n  after: 0s\n", "reconcile.after"),
        ("reconcile:\n  after: soon\n", "reconcile.after"),
        ("reconcile:\n  after: 2h\n  max_age: 1h\n", "reconcile.max_age"),
        ("reconcile:\n  max_age: forever\n", "reconcile.max_age"),
        ("reconcile:\n  final_statuses: [5, paid]\n", "reconcile.final_statuses"),
        ("reconcile:\n  final_statuses: [0]\n", "reconcile.final_statuses"),
        ("reconcile:\n  rate: 0\n", "reconcile.rate"),
        ("reconcile:\n  rate: fast\n", "reconcile.rate"),
        ("reconcile:\n  concurrency: 0\n", "reconcile.concurrency"),
        ("reconcile:\n  concurrency: 65\n", "reconcile.concurrency"),
        ("reconcile:\n  every: 5m\n", "reconcile.every"),
    ]

    @Test func reconciliationKeysAreRead() throws {
        let defaults = try ServiceSettings.load(yaml: Self.merchant, environment: [:])
        #expect(defaults.merchants[0].api == MerchantAPISettings())
        #expect(defaults.merchants[0].api.baseURL == "https://api.trustpay.money" && defaults.merchants[0].api.key == nil)
        #expect(defaults.reconcile.interval == .seconds(300) && defaults.reconcile.isEnabled)
        #expect(defaults.reconcile.after == .seconds(900) && defaults.reconcile.maxAge == .seconds(7 * 86400))
        #expect(defaults.reconcile.finalStatuses == [2, 3, 4, 5, 6, 7, 8])
        #expect(defaults.reconcile.rate == 5 && defaults.reconcile.concurrency == 4)
        let config = try ServiceSettings.load(yaml: """
            merchants:
              - id: 7
                secrets: [s]
                api:
                  base_url: http://127.0.0.1:9999/
                  key: {env: TRUSTPAY_API_KEY}
            reconcile:
              interval: 30s
              after: 2m
              max_age: 3d
              final_statuses: [2, 3, 5, 7]
              rate: 0.5
              concurrency: 2
            """, environment: [:])
        #expect(config.merchants[0].api.baseURL == "http://127.0.0.1:9999")
        #expect(config.merchants[0].api.key == .environment("TRUSTPAY_API_KEY"))
        #expect(config.reconcile.interval == .seconds(30) && config.reconcile.after == .seconds(120))
        #expect(config.reconcile.maxAge == .seconds(3 * 86400) && config.reconcile.finalStatuses == [2, 3, 5, 7])
        #expect(config.reconcile.rate == 0.5 && config.reconcile.concurrency == 2)
        let off = try ServiceSettings.load(
            yaml: Self.merchant, environment: ["TRUSTPAY_WEBHOOKS__RECONCILE__INTERVAL": "0"])
        #expect(off.reconcile.interval == .zero && !off.reconcile.isEnabled)
    }

    @Test func hardeningKeysAreRead() throws {
        let defaults = try ServiceSettings.load(yaml: Self.merchant, environment: [:])
        #expect(defaults.replica.name == nil)
        #expect(defaults.security.rateIPv6Prefix == 64)
        let config = try ServiceSettings.load(yaml: Self.merchant + """
            replica:
              name: web-1
            security:
              rate_limit:
                per_second: 5
                ipv6_prefix: 56
            routes:
              risk_control:
                command: [check]
                env: [RISK_TOKEN]
            handlers:
              - type: exec
                command: [run]
                env: [HANDLER_TOKEN, "MODE=live"]
            """, environment: [:])
        #expect(config.replica.name == "web-1")
        #expect(config.security.rateIPv6Prefix == 56)
        #expect(config.routes.riskControl.environment == ["RISK_TOKEN"])
        #expect(config.handlers.first?.kind == .exec(command: ["run"], timeout: .seconds(30),
                                                     environment: ["HANDLER_TOKEN", "MODE=live"]))
    }

    @Test(arguments: errors)
    func invalidConfigurationNamesTheKey(yaml: String, key: String) {
        #expect {
            _ = try ServiceSettings.load(yaml: yaml, environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.key == key
        }
    }

    @Test func thePostgreSQLTimeoutDefaultsTo5sAndCanBeSet() throws {
        #expect(try ServiceSettings.load(yaml: Self.merchant, environment: [:]).store.postgresTimeout == .seconds(5))
        let config = try ServiceSettings.load(
            yaml: Self.merchant + "store:\n  kind: postgres\n  postgres:\n    url: postgres://x@127.0.0.1/db\n    timeout: 1500ms\n",
            environment: [:])
        #expect(config.store.postgresTimeout == .milliseconds(1500))
    }

    @Test func aLeaseTwiceTheLongestHandlerDeadlineIsAccepted() throws {
        let config = try ServiceSettings.load(
            yaml: Self.merchant + "store:\n  lease: 3s\nroutes:\n  payment:\n    handler_deadline: 1500ms\n  cards: []\n",
            environment: [:])
        #expect(config.store.leaseDuration == .seconds(3))
    }

    @Test func sqliteGroupCommitIsOnByDefaultAndCanBeTurnedOff() throws {
        let defaults = try ServiceSettings.load(yaml: ServiceSettings.defaultYAML, environment: [:])
        #expect(defaults.store.sqliteGroupCommit)
        let off = try ServiceSettings.load(yaml: Self.merchant + "store:\n  sqlite:\n    group_commit: false\n",
                                                environment: [:])
        #expect(!off.store.sqliteGroupCommit)
        #expect(off.store.sqliteSynchronousFull, "turning grouping off leaves synchronous alone")
        let overridden = try ServiceSettings.load(
            yaml: ServiceSettings.defaultYAML, environment: ["TRUSTPAY_WEBHOOKS__STORE__SQLITE__GROUP_COMMIT": "off"])
        #expect(!overridden.store.sqliteGroupCommit)
    }

    @Test func aBadGroupCommitValueNamesKeyAndLine() {
        #expect {
            _ = try ServiceSettings.load(yaml: "store:\n  kind: sqlite\n  sqlite:\n    group_commit: 2\n", environment: [:])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == "store.sqlite.group_commit" && error.line == 4 && "\(error)".contains("'2'")
        }
    }

    @Test func dispatchDefaultsToFourWorkersClaimingEightEveryFiveSeconds() throws {
        let config = try ServiceSettings.load(yaml: ServiceSettings.defaultYAML, environment: [:])
        #expect(config.dispatch.workers == 4)
        #expect(config.dispatch.claimBatch == 8)
        #expect(config.dispatch.pollInterval == .seconds(5))
        let empty = try ServiceSettings.load(yaml: Self.merchant + "dispatch:\n", environment: [:])
        #expect(empty.dispatch == DispatchWorkerSettings())
    }

    @Test func dispatchSettingsAreRead() throws {
        let config = try ServiceSettings.load(
            yaml: Self.merchant + "dispatch:\n  workers: 2\n  claim_batch: 32\n  poll_interval: 250ms\n", environment: [:])
        #expect(config.dispatch.workers == 2)
        #expect(config.dispatch.claimBatch == 32)
        #expect(config.dispatch.pollInterval == .milliseconds(250))
        let limits = try ServiceSettings.load(
            yaml: Self.merchant + "dispatch:\n  workers: 256\n  claim_batch: 1000\n  poll_interval: 10ms\n", environment: [:])
        #expect(limits.dispatch.workers == 256)
        #expect(limits.dispatch.claimBatch == 1000)
        #expect(limits.dispatch.pollInterval == .milliseconds(10))
    }

    @Test func environmentOverridesDispatchSettings() throws {
        let config = try ServiceSettings.load(
            yaml: Self.merchant + "dispatch:\n  workers: 2\n", environment: [
                "TRUSTPAY_WEBHOOKS__DISPATCH__WORKERS": "16", "TRUSTPAY_WEBHOOKS__DISPATCH__CLAIM_BATCH": "3",
                "TRUSTPAY_WEBHOOKS__DISPATCH__POLL_INTERVAL": "2m",
            ])
        #expect(config.dispatch.workers == 16)
        #expect(config.dispatch.claimBatch == 3)
        #expect(config.dispatch.pollInterval == .seconds(120))
        // With no dispatch section in the file the override creates it.
        let created = try ServiceSettings.load(
            yaml: ServiceSettings.defaultYAML, environment: ["TRUSTPAY_WEBHOOKS__DISPATCH__WORKERS": "1"])
        #expect(created.dispatch.workers == 1)
        #expect(created.dispatch.claimBatch == 8)
        #expect {
            _ = try ServiceSettings.load(
                yaml: ServiceSettings.defaultYAML, environment: ["TRUSTPAY_WEBHOOKS__DISPATCH__WORKERS": "0"])
        } throws: { error in
            (error as? ConfigurationError)?.key == "dispatch.workers"
        }
    }

    @Test func aBadDispatchValueNamesKeyLineAndValue() {
        #expect {
            _ = try ServiceSettings.load(
                yaml: "store:\n  kind: memory\ndispatch:\n  workers: 4\n  claim_batch: 5000\n", environment: [:])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == "dispatch.claim_batch" && error.line == 5
                && "\(error)" == "configuration key 'dispatch.claim_batch' (line 5): expected a whole number from 1 to 1000, got '5000'"
        }
        #expect {
            _ = try ServiceSettings.load(yaml: "dispatch:\n  poll_interval: 1ms\n", environment: [:])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == "dispatch.poll_interval" && error.line == 2 && "\(error)".contains("'1ms'")
        }
    }

    @Test func secretsAreNeverPrinted() throws {
        let config = try ServiceSettings.load(
            yaml: "merchants:\n  - id: 7\n    secrets: [{value: hunter2}]\n", environment: [:])
        let printed = "\(config) \(config.merchants) \(try config.merchants[0].secrets[0].resolve(key: "", environment: [:]))"
        #expect(!printed.contains("hunter2"))
    }

    @Test func secretFilesAreReadAndTrimmed() throws {
        let path = NSTemporaryDirectory() + "secret-\(UUID().uuidString)"
        try "from-file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let secret = try SecretSource.file(path).resolve(key: "k", environment: [:])
        #expect(secret.secret == "from-file")
        #expect(throws: ConfigurationError.self) { try SecretSource.file(path + "-missing").resolve(key: "k", environment: [:]) }
    }

    @Test func durationsAcceptUnits() {
        #expect(ConfigDuration.parse("250ms") == .milliseconds(250))
        #expect(ConfigDuration.parse("10s") == .seconds(10))
        #expect(ConfigDuration.parse("5m") == .seconds(300))
        #expect(ConfigDuration.parse("2h") == .seconds(7200))
        #expect(ConfigDuration.parse("30d") == .seconds(30 * 86400))
        #expect(ConfigDuration.parse("1.5") == .milliseconds(1500))
        #expect(ConfigDuration.parse("-1s") == nil)
        #expect(ConfigDuration.parse("soon") == nil)
        #expect(ConfigDuration.parse("36500d") == .seconds(36500 * 86400))
        for huge in ["1e300d", "1e300", "inf", "nan", "9223372036854775807s"] {
            #expect(ConfigDuration.parse(huge) == nil, "\(huge) is refused, not a trap")
        }
    }

    @Test func ipRangesMatchV4AndV6() throws {
        let v4 = try #require(IPRange("10.1.0.0/16"))
        #expect(v4.contains("10.1.200.3"))
        #expect(!v4.contains("10.2.0.1"))
        #expect(!v4.contains("::1"))
        let single = try #require(IPRange("127.0.0.1"))
        #expect(single.contains("127.0.0.1") && !single.contains("127.0.0.2"))
        let v6 = try #require(IPRange("2001:db8::/32"))
        #expect(v6.contains("2001:db8:1::5"))
        #expect(!v6.contains("2001:db9::1"))
        #expect(IPRange("::/0")?.contains("8.8.8.8") == true)
        #expect(IPRange("300.1.1.1") == nil)
        #expect(IPRange("10.0.0.0/40") == nil)
    }
}

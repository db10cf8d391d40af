import Foundation
import Testing
@testable import ServiceConfiguration
import NetworkAddresses

/// What an operator meets in the first hour: which value a problem is
/// about (line or variable), what a file may leave out, where its relative
/// paths point, and how environment variables reach list items.
@Suite struct ConfigurationSurprisesTests {
    static let merchant = ConfigurationTests.merchant

    static func loadError(_ yaml: String, environment: [String: String] = [:]) -> ConfigurationError? {
        do {
            _ = try ServiceSettings.load(yaml: yaml, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    // MARK: naming the source of a value

    @Test func aBadValueFromTheEnvironmentNamesTheVariable() throws {
        let error = try #require(Self.loadError(
            ServiceSettings.defaultYAML, environment: ["TRUSTPAY_WEBHOOKS__SERVER__PORT": "eighty"]))
        #expect(error.key == "server.port")
        #expect(error.environmentVariable == "TRUSTPAY_WEBHOOKS__SERVER__PORT")
        #expect("\(error)" == "configuration key 'server.port' (set by TRUSTPAY_WEBHOOKS__SERVER__PORT): "
            + "expected a whole number from 0 to 65535, got 'eighty'")
    }

    @Test func aBadValueFromTheFileNamesItsLineNotAVariable() throws {
        let error = try #require(Self.loadError(Self.merchant + "server:\n  port: eighty\n",
                                                environment: ["TRUSTPAY_WEBHOOKS__SERVER__HOST": "127.0.0.1"]))
        #expect(error.key == "server.port")
        #expect(error.line == 5)
        #expect(error.environmentVariable == nil)
    }

    @Test func checksAfterReadingNameTheLineOrTheVariableToo() throws {
        let yaml = Self.merchant + "server:\n  tls:\n    certificate: cert.pem\n    key: key.pem\n"
        let fromFile = try ServiceSettings.load(yaml: yaml, environment: [:])
        let fileError = fromFile.error("server.tls.certificate", "no file")
        #expect(fileError.line == 6 && fileError.environmentVariable == nil)
        let fromEnvironment = try ServiceSettings.load(
            yaml: yaml, environment: ["TRUSTPAY_WEBHOOKS__SERVER__TLS__KEY": "/elsewhere/key.pem"])
        let envError = fromEnvironment.error("server.tls.key", "no file")
        #expect(envError.environmentVariable == "TRUSTPAY_WEBHOOKS__SERVER__TLS__KEY")
        #expect("\(envError)".contains("set by TRUSTPAY_WEBHOOKS__SERVER__TLS__KEY"))
    }

    // MARK: lists and mappings

    @Test func aListWhereAMappingIsExpectedSaysWhichWasExpected() throws {
        let error = try #require(Self.loadError(Self.merchant + "server:\n  - port: 80\n"))
        #expect(error.key == "server")
        #expect(error.message.contains("expected a mapping") && error.message.contains("got a list"), "\(error)")
    }

    @Test func aMappingWhereAListIsExpectedSaysWhichWasExpected() throws {
        let error = try #require(Self.loadError("merchants:\n  id: 7\n  secrets: [s]\n"))
        #expect(error.key == "merchants")
        #expect(error.message.contains("expected a list") && error.message.contains("got a mapping"), "\(error)")
    }

    @Test func aValueInTheWrongPlaceIsNotRepeated() throws {
        let error = try #require(Self.loadError(
            Self.merchant, environment: ["TRUSTPAY_WEBHOOKS__STORE__POSTGRES": "postgres://u:hunter2@db/x"]))
        #expect(error.key == "store.postgres")
        #expect(error.environmentVariable == "TRUSTPAY_WEBHOOKS__STORE__POSTGRES")
        #expect(!"\(error)".contains("hunter2"))
    }

    // MARK: cross-checks

    @Test func aLeaseTooShortNamesTheRouteWhoseDeadlineItConflictsWith() throws {
        let error = try #require(Self.loadError(Self.merchant + """
            store:
              lease: 60s
            routes:
              cards:
                - merchant: 7
                - merchant: 7
                  path: /trustpay/card-2
                  handler_deadline: 40s

            """))
        #expect(error.key == "store.lease")
        #expect(error.message.contains("routes.cards[1].handler_deadline"), "\(error)")
        #expect(error.message.contains("80000 ms"), "\(error)")
    }

    @Test func theSamePortForBothListenersNamesBothKeys() throws {
        let error = try #require(Self.loadError(Self.merchant + "server:\n  port: 8443\nadmin:\n  port: 8443\n"))
        #expect(error.key == "admin.port")
        #expect(error.message.contains("server.port"), "\(error)")
        let viaEnvironment = try #require(Self.loadError(
            Self.merchant + "admin:\n  port: 9090\n", environment: ["TRUSTPAY_WEBHOOKS__SERVER__PORT": "9090"]))
        #expect(viaEnvironment.key == "admin.port")
        #expect(viaEnvironment.line == 5)
        #expect(viaEnvironment.message.contains("server.port (9090, set by TRUSTPAY_WEBHOOKS__SERVER__PORT)"),
                "\(viaEnvironment)")
        let byDefault = try #require(Self.loadError(Self.merchant + "admin:\n  port: 8080\n"))
        #expect(byDefault.message.contains("server.port (8080 by default)"), "\(byDefault)")
        // Two free ports picked at start never collide.
        _ = try ServiceSettings.load(yaml: Self.merchant + "server:\n  port: 0\nadmin:\n  port: 0\n", environment: [:])
    }

    // MARK: what a file may leave out

    @Test func aConfigurationWithoutMerchantsIsInvalid() throws {
        for yaml in ["", "server:\n  port: 8080\n", "merchants: []\n", "merchants:\n"] {
            let error = try #require(Self.loadError(yaml), "\(yaml.debugDescription) was accepted")
            #expect(error.key == "merchants", "\(yaml.debugDescription): \(error)")
        }
    }

    @Test func aFileWithOnlyMerchantsKeepsTheLogHandlerAndTheCardRoute() throws {
        let config = try ServiceSettings.load(yaml: Self.merchant, environment: [:])
        #expect(config.handlers == [HandlerSettings(name: "log", kind: .log(json: false))])
        #expect(config.routes.cards == [CardRouteSettings(merchant: 7)])
        #expect(config.routes.cards.first?.path == "/trustpay/card")
        let defaults = try ServiceSettings.load(yaml: ServiceSettings.defaultYAML, environment: [:])
        #expect(config.handlers == defaults.handlers)
        #expect(config.routes.payment == defaults.routes.payment)
        #expect(config.routes.riskControl == defaults.routes.riskControl)
    }

    @Test func settingOneListKeepsTheDefaultsOfTheOthers() throws {
        let withRoutes = try ServiceSettings.load(
            yaml: Self.merchant + "routes:\n  payment:\n    dispatch: after-handler\n", environment: [:])
        #expect(withRoutes.handlers.map(\.name) == ["log"])
        #expect(withRoutes.routes.cards.count == 1)
        let withHandlers = try ServiceSettings.load(
            yaml: Self.merchant + "handlers:\n  - type: jsonl\n    path: /tmp/x.jsonl\n", environment: [:])
        #expect(withHandlers.routes.cards == [CardRouteSettings(merchant: 7)])
        #expect(withHandlers.handlers.map(\.name) == ["jsonl"])
    }

    /// A file tuned for short handlers (the crash drill's: 3 s deadline,
    /// 6 s lease) stays valid: the card route it left out takes the payment
    /// route's deadline, not the 10 s of a listed one.
    @Test func theDefaultCardRouteTakesThePaymentRoutesDispatchAndDeadline() throws {
        let config = try ServiceSettings.load(
            yaml: Self.merchant + "store:\n  lease: 6s\nroutes:\n  payment:\n    dispatch: after-handler\n"
                + "    handler_deadline: 3s\n",
            environment: [:])
        #expect(config.routes.cards.count == 1)
        #expect(config.routes.cards.first?.handlerDeadline == .seconds(3))
        #expect(config.routes.cards.first?.dispatch == .afterHandler)
    }

    @Test func noHandlersAndNoCardRoutesOnlyWhenTheFileSaysSo() throws {
        let config = try ServiceSettings.load(yaml: Self.merchant + "handlers: []\nroutes:\n  cards: []\n",
                                                   environment: [:])
        #expect(config.handlers.isEmpty)
        #expect(config.routes.cards.isEmpty)
    }

    @Test func severalMerchantsGetNoCardRouteUnlessListed() throws {
        let config = try ServiceSettings.load(
            yaml: "merchants:\n  - id: 7\n    secrets: [a]\n  - id: 8\n    secrets: [b]\n", environment: [:])
        #expect(config.routes.cards.isEmpty)
        #expect(config.handlers.map(\.name) == ["log"])
    }

    // MARK: relative paths

    @Test func relativePathsResolveFromTheFilesFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("service.yaml")
        try """
            server:
              tls:
                certificate: tls/cert.pem
                key: /etc/tls/key.pem
            store:
              sqlite:
                path: data/inbox.sqlite
            merchants:
              - id: 7
                secrets: [{file: secrets/trustpay}]
            handlers:
              - type: jsonl
                path: ../events.jsonl
              - type: forward
                url: http://127.0.0.1:9/hook
                secret: {file: forward-secret}

            """.write(to: file, atomically: true, encoding: .utf8)
        let root = folder.standardizedFileURL.path
        let config = try ServiceSettings.load(path: file.path, environment: [:])
        #expect(config.server.tlsCertificate == root + "/tls/cert.pem")
        #expect(config.server.tlsKey == "/etc/tls/key.pem")
        #expect(config.store.sqlitePath == root + "/data/inbox.sqlite")
        #expect(config.merchants[0].secrets == [.file(root + "/secrets/trustpay")])
        #expect(config.handlers[0].kind == .jsonl(path: folder.deletingLastPathComponent().standardizedFileURL.path
            + "/events.jsonl"))
        guard case .forward(_, let secret, _) = config.handlers[1].kind else {
            Issue.record("not a forward handler")
            return
        }
        #expect(secret == .file(root + "/forward-secret"))
        #expect(config.sources.file == file.path)

        // A path an environment variable gives is the operator's, from the working directory.
        let overridden = try ServiceSettings.load(
            path: file.path, environment: ["TRUSTPAY_WEBHOOKS__STORE__SQLITE__PATH": "var/inbox.sqlite"])
        #expect(overridden.store.sqlitePath == "var/inbox.sqlite")
    }

    @Test func theEmbeddedDefaultsResolveFromTheWorkingDirectory() throws {
        let config = try ServiceSettings.load(yaml: ServiceSettings.defaultYAML, environment: [:])
        #expect(config.store.sqlitePath == "data/trustpay-webhooks.sqlite")
        #expect(config.sources.file == nil)
    }

    // MARK: environment overrides and lists

    @Test func environmentOverridesAddressListItemsByNumber() throws {
        let config = try ServiceSettings.load(
            yaml: ServiceSettings.defaultYAML,
            environment: [
                "TRUSTPAY_WEBHOOKS__MERCHANTS__0__SECRETS__0": "from-the-environment",
                "TRUSTPAY_WEBHOOKS__HANDLERS__0__FORMAT": "json",
                "TRUSTPAY_WEBHOOKS__ROUTES__CARDS__0__PATH": "/cards",
            ])
        #expect(config.merchants[0].secrets == [.value("from-the-environment")])
        #expect(config.handlers[0].kind == .log(json: true))
        #expect(config.routes.cards[0].path == "/cards")
        #expect(config.sources.environment["merchants[0].secrets[0]"] == "TRUSTPAY_WEBHOOKS__MERCHANTS__0__SECRETS__0")
    }

    /// What config/README.md says a variable can and cannot do to a secret.
    @Test func aVariableSetsOneValueOfAnItemAndRemovesNone() throws {
        let renamed = try ServiceSettings.load(
            yaml: ServiceSettings.defaultYAML,
            environment: ["TRUSTPAY_WEBHOOKS__MERCHANTS__0__SECRETS__0__ENV": "MY_SECRET"])
        #expect(renamed.merchants[0].secrets
            == [.environment("MY_SECRET", developmentFallback: "trustpay-webhooks-development-secret")])
        let error = try #require(Self.loadError(
            ServiceSettings.defaultYAML,
            environment: ["TRUSTPAY_WEBHOOKS__MERCHANTS__0__SECRETS__0__FILE": "/run/secrets/trustpay"]))
        #expect(error.key == "merchants[0].secrets[0]")
        #expect(error.environmentVariable == "TRUSTPAY_WEBHOOKS__MERCHANTS__0__SECRETS__0__FILE")
    }

    @Test func oneItemPastTheEndAddsAnItem() throws {
        let config = try ServiceSettings.load(
            yaml: Self.merchant + "security:\n  allow: [10.0.0.0/8]\n",
            environment: ["TRUSTPAY_WEBHOOKS__SECURITY__ALLOW__1": "192.0.2.0/24",
                          "TRUSTPAY_WEBHOOKS__MERCHANTS__1__ID": "8",
                          "TRUSTPAY_WEBHOOKS__MERCHANTS__1__SECRETS": "eight"])
        #expect(config.security.allow.count == 2)
        #expect(config.merchants.map(\.id) == [7, 8])
        #expect(config.merchants[1].secrets == [.value("eight")])
        // Handlers from nothing: the list is created.
        let created = try ServiceSettings.load(
            yaml: Self.merchant, environment: ["TRUSTPAY_WEBHOOKS__HANDLERS__0__TYPE": "jsonl",
                                               "TRUSTPAY_WEBHOOKS__HANDLERS__0__PATH": "/tmp/e.jsonl"])
        #expect(created.handlers.map(\.name) == ["jsonl"])
    }

    @Test func itemsAreAddedInNumberOrderNotNameOrder() throws {
        var environment: [String: String] = [:]
        for index in 1...11 { environment["TRUSTPAY_WEBHOOKS__SECURITY__ALLOW__\(index)"] = "10.0.0.\(index)" }
        let config = try ServiceSettings.load(yaml: Self.merchant + "security:\n  allow: [10.0.0.0]\n",
                                                   environment: environment)
        #expect(config.security.allow == (0...11).compactMap { IPRange("10.0.0.\($0)") })
    }

    @Test func anItemFarPastTheEndIsAnErrorNamingTheVariable() throws {
        let error = try #require(Self.loadError(
            Self.merchant, environment: ["TRUSTPAY_WEBHOOKS__MERCHANTS__5__ID": "9"]))
        #expect(error.key == "merchants")
        #expect(error.environmentVariable == "TRUSTPAY_WEBHOOKS__MERCHANTS__5__ID")
        #expect(error.message.contains("1 item"), "\(error)")
        let notAList = try #require(Self.loadError(
            Self.merchant + "server:\n  port: 80\n", environment: ["TRUSTPAY_WEBHOOKS__SERVER__0": "x"]))
        #expect(notAList.key == "server")
        #expect(notAList.message.contains("not a list"), "\(notAList)")
        let aList = try #require(Self.loadError(Self.merchant, environment: ["TRUSTPAY_WEBHOOKS__MERCHANTS__ID": "9"]))
        #expect(aList.key == "merchants")
        #expect(aList.message.contains("__0__"), "\(aList)")
    }

    // MARK: one spelling

    @Test func numberFormsAreSpeltAsTheFlagsSpellThemAndTheOldSpellingIsRead() throws {
        let config = try ServiceSettings.load(
            yaml: "merchants:\n  - id: 7\n    secrets: [s]\n    number_forms: [as-transmitted, two-decimals]\n"
                + "  - id: 8\n    secrets: [s]\n    number_forms: [as_transmitted, two_decimals, shortest]\n",
            environment: [:])
        #expect(config.merchants[0].numberForms == [.asTransmitted, .twoDecimals])
        #expect(config.merchants[1].numberForms == [.asTransmitted, .twoDecimals, .shortest])
        #expect(NumberFormSetting.allCases.map(\.rawValue) == ["as-transmitted", "shortest", "two-decimals"])
        let error = try #require(Self.loadError("merchants:\n  - id: 7\n    secrets: [s]\n    number_forms: [exact]\n"))
        #expect(error.key == "merchants[0].number_forms")
        #expect(error.message.contains("as-transmitted, shortest or two-decimals"), "\(error)")
    }
}

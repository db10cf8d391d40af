import Durations
import Foundation
import Inbox
import NetworkAddresses

/// Turns the tree into typed settings, section by section.
enum ConfigurationReader {
    static func read(_ tree: ConfigTree) throws(ConfigurationError) -> ServiceSettings {
        let root = try ConfigSection(path: "", tree: tree)
        var config = ServiceSettings()
        if let server = try root.section("server") { config.server = try readServer(server) }
        if let admin = try root.section("admin") {
            let host = try admin.string("host", default: "127.0.0.1")
            let port = try admin.int("port", default: 9090, in: 0...65535)
            var token: SecretSource?
            if let tree = admin.raw("token") { token = try SecretSource.read(tree, path: admin.keyPath("token")) }
            try admin.finish()
            config.admin = ListenerSettings(host: host, port: port, token: token)
        }
        if let store = try root.section("store") { config.store = try readStore(store) }
        for (path, tree) in try root.list("merchants") {
            config.merchants.append(try readMerchant(ConfigSection(path: path, tree: tree)))
        }
        var cardsGiven = false
        if let routes = try root.section("routes") {
            cardsGiven = routes.raw("cards") != nil
            config.routes = try readRoutes(routes)
        }
        // Lists a file leaves out keep their documented defaults: one card
        // route for a single merchant (card callbacks carry no merchant id,
        // so with several the routes must say whose), and the log handler.
        // The card route takes the payment route's dispatch and deadline, so
        // leaving it out changes neither the lease needed nor how long
        // handlers may run.
        if !cardsGiven, config.merchants.count == 1 {
            var card = CardRouteSettings(merchant: config.merchants[0].id)
            card.dispatch = config.routes.payment.dispatch
            card.handlerDeadline = config.routes.payment.handlerDeadline
            config.routes.cards = [card]
        }
        if root.raw("handlers") == nil {
            config.handlers = [HandlerSettings(name: "log", kind: .log(json: false))]
        } else {
            for (path, tree) in try root.list("handlers") {
                config.handlers.append(try readHandler(ConfigSection(path: path, tree: tree)))
            }
        }
        if let retry = try root.section("retry") { config.retry = try readRetry(retry) }
        if let dispatch = try root.section("dispatch") { config.dispatch = try readDispatch(dispatch) }
        if let security = try root.section("security") { config.security = try readSecurity(security) }
        if let replica = try root.section("replica") {
            if let name = try replica.string("name") {
                guard !name.isEmpty, name.count <= 100, !name.contains("#"), !name.contains("/"),
                      name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
                else {
                    throw replica.error("name", "expected up to 100 characters without spaces, '#' or '/', got '\(name)'")
                }
                config.replica.name = name
            }
            try replica.finish()
        }
        if let reconcile = try root.section("reconcile") { config.reconcile = try readReconcile(reconcile) }
        if let logging = try root.section("logging") {
            config.logging.level = try logging.choice("level", default: "info", Dictionary(uniqueKeysWithValues:
                ["trace", "debug", "info", "notice", "warning", "error", "critical"].map { ($0, $0) }))
            config.logging.json = try logging.choice("format", default: false, ["text": false, "json": true])
            try logging.finish()
        }
        try root.finish()
        try validate(config)
        return config
    }

    private static func readServer(_ s: ConfigSection) throws(ConfigurationError) -> ServerSettings {
        var server = ServerSettings()
        server.host = try s.string("host", default: server.host)
        guard IPRange.isNumericAddress(server.host) else {
            throw s.error("host", "expected a numeric IPv4 or IPv6 address, got '\(server.host)'")
        }
        server.port = try s.int("port", default: server.port, in: 0...65535)
        server.eventLoops = try s.int("event_loops", default: 0, in: 0...256)
        if let tls = try s.section("tls") {
            server.tlsCertificate = try tls.string("certificate")
            server.tlsKey = try tls.string("key")
            try tls.finish()
            if (server.tlsCertificate == nil) != (server.tlsKey == nil) {
                throw ConfigurationError(key: "server.tls", message: "certificate and key go together", line: tls.line)
            }
        }
        if let limits = try s.section("limits") {
            server.maxHeaderBytes = try limits.int("max_header_bytes", default: server.maxHeaderBytes, in: 1024...1 << 20)
            server.maxHeaders = try limits.int("max_headers", default: server.maxHeaders, in: 1...10_000)
            server.maxBodyBytes = try limits.int("max_body_bytes", default: server.maxBodyBytes, in: 1...64 << 20)
            server.maxConnections = try limits.int("max_connections", default: server.maxConnections, in: 1...1_000_000)
            server.maxConnectionsPerSource = try limits.int(
                "max_connections_per_source", default: server.maxConnectionsPerSource, in: 0...1_000_000)
            try limits.finish()
        }
        if let timeouts = try s.section("timeouts") {
            server.headerReadTimeout = try timeouts.duration("header_read", default: server.headerReadTimeout)
            server.bodyReadTimeout = try timeouts.duration("body_read", default: server.bodyReadTimeout)
            server.idleTimeout = try timeouts.duration("idle", default: server.idleTimeout)
            server.writeTimeout = try timeouts.duration("write", default: server.writeTimeout)
            server.drainTimeout = try timeouts.duration("drain", default: server.drainTimeout)
            try timeouts.finish()
        }
        try s.finish()
        return server
    }

    private static func readStore(_ s: ConfigSection) throws(ConfigurationError) -> StoreSettings {
        var store = StoreSettings()
        store.kind = try s.choice("kind", default: .sqlite, ["sqlite": .sqlite, "postgres": .postgres, "memory": .memory])
        if let sqlite = try s.section("sqlite") {
            store.sqlitePath = try sqlite.string("path", default: store.sqlitePath)
            store.sqliteSynchronousFull = try sqlite.choice("synchronous", default: true, ["full": true, "normal": false])
            store.sqliteGroupCommit = try sqlite.bool("group_commit", default: store.sqliteGroupCommit)
            try sqlite.finish()
        }
        if let postgres = try s.section("postgres") {
            if let url = postgres.raw("url") { store.postgresURL = try SecretSource.read(url, path: postgres.keyPath("url")) }
            store.postgresPoolSize = try postgres.int("pool_size", default: store.postgresPoolSize, in: 1...256)
            store.postgresTimeout = try postgres.duration("timeout", default: store.postgresTimeout)
            guard store.postgresTimeout >= .milliseconds(100) else {
                throw postgres.error("timeout", "must be at least 100ms: shorter fails even a healthy database's answers")
            }
            try postgres.finish()
        }
        store.keepCompleted = try s.duration("keep_completed", default: store.keepCompleted)
        store.leaseDuration = try s.duration("lease", default: store.leaseDuration)
        try s.finish()
        if store.kind == .postgres && store.postgresURL == nil {
            throw ConfigurationError(key: "store.postgres.url", message: "required when store.kind is postgres", line: s.line)
        }
        return store
    }

    private static func readMerchant(_ s: ConfigSection) throws(ConfigurationError) -> MerchantSettings {
        guard let idText = try s.string("id"), let id = Int64(idText), id > 0 else {
            throw s.error("id", "expected the merchant id TrustPay gave you (a positive number)")
        }
        var secrets: [SecretSource] = []
        for (path, tree) in try s.list("secrets") { secrets.append(try SecretSource.read(tree, path: path)) }
        guard !secrets.isEmpty else { throw s.error("secrets", "at least one secret is needed") }
        var merchant = MerchantSettings(id: id, secrets: secrets)
        let forms = try s.stringList("number_forms")
        if !forms.isEmpty {
            merchant.numberForms = []
            for form in forms {
                guard let value = NumberFormSetting(spelling: form) else {
                    throw s.error("number_forms", "expected as-transmitted, shortest or two-decimals, got '\(form)'")
                }
                merchant.numberForms.append(value)
            }
        }
        if let api = try s.section("api") { merchant.api = try readMerchantAPI(api) }
        try s.finish()
        return merchant
    }

    private static func readMerchantAPI(_ s: ConfigSection) throws(ConfigurationError) -> MerchantAPISettings {
        var api = MerchantAPISettings()
        if let text = try s.string("base_url") {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["https", "http"].contains(scheme),
                url.host?.isEmpty == false, url.query == nil, url.fragment == nil
            else {
                throw s.error("base_url", "expected an https:// (or http://) URL such as \(MerchantAPISettings.defaultBaseURL), got '\(text)'")
            }
            api.baseURL = text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        if let tree = s.raw("key") { api.key = try SecretSource.read(tree, path: s.keyPath("key")) }
        try s.finish()
        return api
    }

    private static func readReconcile(_ s: ConfigSection) throws(ConfigurationError) -> ReconcileSettings {
        var reconcile = ReconcileSettings()
        reconcile.interval = try s.duration("interval", default: reconcile.interval)
        if reconcile.interval > .zero && reconcile.interval < .seconds(1) {
            // Each sweep reads the store and may call the API: not in a loop.
            throw s.error("interval", "expected 0 (off) or at least 1s, got '\(try s.string("interval") ?? "")'")
        }
        reconcile.after = try s.duration("after", default: reconcile.after)
        guard reconcile.after > .zero else {
            throw s.error("after", "expected a duration above zero, such as 15m")
        }
        reconcile.maxAge = try s.duration("max_age", default: reconcile.maxAge)
        guard reconcile.maxAge > reconcile.after else {
            throw s.error("max_age", "expected a duration longer than reconcile.after, such as 7d")
        }
        if s.raw("final_statuses") != nil {
            reconcile.finalStatuses = []
            for text in try s.stringList("final_statuses") {
                guard let status = Int(text), (1...999).contains(status) else {
                    throw s.error("final_statuses", "expected order status codes such as 2, 5 or 7, got '\(text)'")
                }
                if !reconcile.finalStatuses.contains(status) { reconcile.finalStatuses.append(status) }
            }
        }
        if let text = try s.string("rate") {
            guard let value = Double(text), value > 0, value <= 1000 else {
                throw s.error("rate", "expected order queries per second above 0 and up to 1000, such as 5 or 0.5, got '\(text)'")
            }
            reconcile.rate = value
        }
        reconcile.concurrency = try s.int("concurrency", default: reconcile.concurrency, in: 1...64)
        try s.finish()
        return reconcile
    }

    private static let dispatchChoices: [String: DispatchSetting] = ["after-store": .afterStore, "after-handler": .afterHandler]

    private static func readRoutes(_ s: ConfigSection) throws(ConfigurationError) -> RouteSettings {
        var routes = RouteSettings()
        if let payment = try s.section("payment") {
            routes.payment.path = try path(payment, "path", default: routes.payment.path)
            routes.payment.dispatch = try payment.choice("dispatch", default: .afterStore, dispatchChoices)
            routes.payment.handlerDeadline = try payment.duration("handler_deadline", default: routes.payment.handlerDeadline)
            try payment.finish()
        }
        for (itemPath, tree) in try s.list("cards") {
            let card = try ConfigSection(path: itemPath, tree: tree)
            guard let merchantText = try card.string("merchant"), let merchant = Int64(merchantText) else {
                throw card.error("merchant", "expected the id of the merchant whose card callbacks arrive here")
            }
            var route = CardRouteSettings(merchant: merchant)
            route.path = try path(card, "path", default: route.path)
            route.dispatch = try card.choice("dispatch", default: .afterStore, dispatchChoices)
            route.handlerDeadline = try card.duration("handler_deadline", default: route.handlerDeadline)
            try card.finish()
            routes.cards.append(route)
        }
        if let risk = try s.section("risk_control") {
            routes.riskControl.path = try path(risk, "path", default: routes.riskControl.path)
            routes.riskControl.deadline = try risk.duration("deadline", default: routes.riskControl.deadline)
            routes.riskControl.decision = try risk.choice(
                "decision", default: .unavailable, ["allow": .allow, "deny": .deny, "unavailable": .unavailable])
            routes.riskControl.command = try risk.stringList("command")
            routes.riskControl.environment = try environmentNames(risk)
            try risk.finish()
        }
        routes.healthz = try path(s, "healthz", default: routes.healthz)
        routes.readyz = try path(s, "readyz", default: routes.readyz)
        routes.metrics = try path(s, "metrics", default: routes.metrics)
        try s.finish()
        return routes
    }

    private static func path(_ s: ConfigSection, _ key: String, default fallback: String) throws(ConfigurationError) -> String {
        let value = try s.string(key, default: fallback)
        guard value.hasPrefix("/"), !value.contains(" "), !value.contains("?") else {
            throw s.error(key, "expected a path starting with / (no spaces or query), got '\(value)'")
        }
        return value
    }

    private static func readHandler(_ s: ConfigSection) throws(ConfigurationError) -> HandlerSettings {
        guard let type = try s.string("type") else { throw s.error("type", "required: log, jsonl, forward or exec") }
        let kind: HandlerKindSettings
        switch type {
        case "log":
            kind = .log(json: try s.choice("format", default: false, ["text": false, "json": true]))
        case "jsonl":
            kind = .jsonl(path: try s.string("path", default: "data/events.jsonl"))
        case "forward":
            guard let url = try s.string("url"), url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw s.error("url", "required: the http:// or https:// address events are posted to")
            }
            guard let secretTree = s.raw("secret") else {
                throw s.error("secret", "required: the Standard Webhooks signing secret (whsec_…)")
            }
            kind = .forward(url: url, secret: try SecretSource.read(secretTree, path: s.keyPath("secret")),
                            timeout: try s.duration("timeout", default: .seconds(10)))
        case "exec":
            let command = try s.stringList("command")
            guard !command.isEmpty else { throw s.error("command", "required: the program and its arguments") }
            kind = .exec(command: command, timeout: try s.duration("timeout", default: .seconds(30)),
                         environment: try environmentNames(s))
        default:
            throw s.error("type", "expected log, jsonl, forward or exec, got '\(type)'")
        }
        var handler = HandlerSettings(name: try s.string("name", default: type), kind: kind)
        let events = try s.stringList("events")
        if !events.isEmpty {
            handler.events = []
            for event in events {
                guard let value = EventKindSetting(rawValue: event) else {
                    throw s.error("events", "expected payment or card, got '\(event)'")
                }
                handler.events.append(value)
            }
        }
        for status in try s.stringList("statuses") {
            guard let value = Int(status) else { throw s.error("statuses", "expected status codes, got '\(status)'") }
            handler.statuses.append(value)
        }
        try s.finish()
        return handler
    }

    /// `env`: names of variables (or `NAME=value`) a command gets.
    private static func environmentNames(_ s: ConfigSection) throws(ConfigurationError) -> [String] {
        let entries = try s.stringList("env")
        for entry in entries {
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard let first = name.first, first == "_" || first.isASCII && first.isLetter,
                  name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) })
            else {
                throw s.error("env", "expected variable names (letters, digits, _) or NAME=value, got '\(entry)'")
            }
        }
        return entries
    }

    private static func readRetry(_ s: ConfigSection) throws(ConfigurationError) -> RetrySettings {
        var retry = RetrySettings()
        retry.attempts = try s.int("attempts", default: retry.attempts, in: 1...100)
        retry.initialDelay = try s.duration("initial_delay", default: retry.initialDelay)
        retry.maxDelay = try s.duration("max_delay", default: retry.maxDelay)
        if let text = try s.string("multiplier") {
            guard let value = Double(text), value >= 1, value <= 10 else {
                throw s.error("multiplier", "expected a number from 1 to 10, got '\(text)'")
            }
            retry.multiplier = value
        }
        if let text = try s.string("jitter") {
            guard let value = Double(text), value >= 0, value <= 1 else {
                throw s.error("jitter", "expected a fraction from 0 to 1, got '\(text)'")
            }
            retry.jitter = value
        }
        try s.finish()
        return retry
    }

    private static func readDispatch(_ s: ConfigSection) throws(ConfigurationError) -> DispatchWorkerSettings {
        var dispatch = DispatchWorkerSettings()
        dispatch.workers = try s.int("workers", default: dispatch.workers, in: 1...256)
        dispatch.claimBatch = try s.int("claim_batch", default: dispatch.claimBatch, in: 1...1000)
        if let text = try s.string("poll_interval") {
            // Shorter would keep the store busy answering empty claims.
            guard let value = ConfigDuration.parse(text), value >= .milliseconds(10) else {
                throw s.error("poll_interval", "expected a duration of at least 10ms, such as 500ms or 5s, got '\(text)'")
            }
            dispatch.pollInterval = value
        }
        try s.finish()
        return dispatch
    }

    private static func readSecurity(_ s: ConfigSection) throws(ConfigurationError) -> SecuritySettings {
        var security = SecuritySettings()
        security.allow = try ranges(s, "allow")
        security.trustedProxies = try ranges(s, "trusted_proxies")
        if let rate = try s.section("rate_limit") {
            if let text = try rate.string("per_second") {
                guard let value = Double(text), value >= 0 else {
                    throw rate.error("per_second", "expected a non-negative number, got '\(text)'")
                }
                security.rateLimit = value
            }
            security.rateBurst = try rate.int("burst", default: max(1, Int(security.rateLimit.rounded(.up))), in: 1...1_000_000)
            security.rateIPv6Prefix = try rate.int("ipv6_prefix", default: security.rateIPv6Prefix, in: 1...128)
            try rate.finish()
        }
        try s.finish()
        return security
    }

    private static func ranges(_ s: ConfigSection, _ key: String) throws(ConfigurationError) -> [IPRange] {
        var out: [IPRange] = []
        for text in try s.stringList(key) {
            guard let range = IPRange(text) else {
                throw s.error(key, "expected an IP address or CIDR range, got '\(text)'")
            }
            out.append(range)
        }
        return out
    }

    private static func validate(_ config: ServiceSettings) throws(ConfigurationError) {
        var seen: Set<Int64> = []
        for (index, merchant) in config.merchants.enumerated() where !seen.insert(merchant.id).inserted {
            throw ConfigurationError(key: "merchants[\(index)].id", message: "merchant \(merchant.id) is listed twice")
        }
        for (index, card) in config.routes.cards.enumerated() where !seen.contains(card.merchant) {
            throw ConfigurationError(key: "routes.cards[\(index)].merchant",
                                     message: "merchant \(card.merchant) is not in merchants")
        }
        var paths: [String: String] = [:]
        let routes = config.routes
        let named = [("routes.payment.path", routes.payment.path), ("routes.risk_control.path", routes.riskControl.path),
                     ("routes.healthz", routes.healthz), ("routes.readyz", routes.readyz), ("routes.metrics", routes.metrics)]
            + routes.cards.enumerated().map { ("routes.cards[\($0.offset)].path", $0.element.path) }
        for (key, path) in named {
            if let other = paths[path] {
                throw ConfigurationError(key: key, message: "path \(path) is already used by \(other)")
            }
            paths[path] = key
        }
        // A claim must outlast the handlers it covers, or a second replica
        // would start an event the first is still handling.
        let deadlines = [("routes.payment.handler_deadline", routes.payment.handlerDeadline)]
            + routes.cards.enumerated().map { ("routes.cards[\($0.offset)].handler_deadline", $0.element.handlerDeadline) }
        if let conflict = deadlines.max(by: { $0.1 < $1.1 }),
           config.store.leaseDuration < Lease.minimumDuration(forHandlerTimeout: conflict.1) {
            let (route, longest) = conflict
            throw ConfigurationError(
                key: "store.lease",
                message: "\(config.store.leaseDuration.wholeMilliseconds) ms is shorter than twice \(route) "
                    + "(\(longest.wholeMilliseconds) ms): a replica could take over an event another is still handling. "
                    + "Raise store.lease to at least \(Lease.minimumDuration(forHandlerTimeout: longest).wholeMilliseconds) ms or shorten the deadline")
        }
        if config.merchants.isEmpty {
            throw ConfigurationError(
                key: "merchants",
                message: "at least one merchant is needed: its TrustPay merchant id and secret (see config/README.md)")
        }
    }
}

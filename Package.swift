// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "trustpay-webhooks",
    // The server is Linux-only (epoll, accept4, posix_spawn's closefrom). On
    // macOS only the modules that need nothing of Linux (TrustPay, Durations, Inbox,
    // Locking's lock and queue) are meant to build; this is their floor.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trustpay-webhooks", targets: ["trustpay-webhooks"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .library(name: "TrustPay", targets: ["TrustPay"]),
        .library(name: "TrustPayAPI", targets: ["TrustPayAPI"]),
        .library(name: "Inbox", targets: ["Inbox"]),
        .library(name: "Webhooks", targets: ["Webhooks"]),
        .library(name: "TrustPayWebhooksTesting", targets: ["TrustPayWebhooksTesting", "InboxTesting", "TrustPaySimulator"]),
        // Not an API (the underscore says so): the Benchmarks package measures
        // the SQLite writer through it. Merchants use SQLiteInbox.
        .library(name: "_SQLiteStore", targets: ["SQLiteStore"]),
        .library(name: "SQLiteInbox", targets: ["SQLiteInbox"]),
        .library(name: "PostgresInbox", targets: ["PostgresInbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // send's client: IPv6 literals, a private CA (--cacert), --insecure.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // MD5 (TrustPay's signatures) and HMAC-SHA256 (forward), portable:
        // already in the graph through PostgresNIO.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // Service, ServiceGroup, graceful shutdown: already in the graph through PostgresNIO.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Linux calls Glibc does not export (epoll, eventfd, accept4).
        .systemLibrary(name: "CLinuxSys", path: "Sources/CLinuxSys"),
        // The system OpenSSL 3 (libssl-dev): TLS termination and MD5.
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .target(
            name: "HTTPServer",
            dependencies: ["Locking", "Deadlines", "Durations",
                "CLinuxSys", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The wire format: no Linux-specific import, so it builds wherever Swift does.
        .target(name: "TrustPay", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // TrustPay's merchant API (the Order Query) over AsyncHTTPClient:
        // signed requests, retries, a bounded rate per merchant.
        .target(
            name: "TrustPayAPI",
            dependencies: ["Durations", "TrustPay", "Locking",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // The store contract: events, states, leases, the hot-path and
        // administration protocols, and the in-memory inbox. A leaf: it knows
        // neither the server nor TrustPay's wire format.
        .target(name: "Inbox", dependencies: ["CLinuxSys", "Durations", "Locking"]),
        .target(
            name: "Webhooks",
            dependencies: ["Durations", "Locking", "Deadlines",
                "HTTPServer", "TrustPay", "Inbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        // IPv4/IPv6 addresses and CIDR ranges: what the configuration and
        // the access rules share, without linking the server.
        .target(name: "NetworkAddresses"),
        // Allow-list, trusted proxies and rate limit for the callback routes.
        .target(name: "AccessControl", dependencies: ["Durations", "Locking", "NetworkAddresses", "HTTPServer"]),
        .target(
            name: "TrustPayWebhooksTesting",
            dependencies: ["Durations", "Locking", "Webhooks", "Inbox", "TrustPay", "HTTPServer", "CallbackReshaping"]),
        // The contract every inbox keeps, for stores of the project's and a merchant's own.
        .target(name: "InboxTesting", dependencies: ["Inbox"]),
        // A stand-in for TrustPay: the Order Query API and callback delivery
        // for scripted orders (retries, repeats, out of order, giving up).
        .target(
            name: "TrustPaySimulator",
            dependencies: ["Durations", "TrustPay", "HTTPServer", "Locking",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Genuine signed callbacks, the reshapings an attacker holding one could
        // try, and the property each must keep: for tests and the fuzz target.
        .target(name: "CallbackReshaping", dependencies: ["TrustPay"]),
        // libFuzzer targets (scripts/fuzz); a plain build of each replays
        // inputs through the same check, as CI does with the corpora.
        .target(name: "FuzzReplay", path: "fuzz/targets/FuzzReplay"),
        .executableTarget(
            name: "signed-content-fuzz", dependencies: ["CallbackReshaping", "FuzzReplay"], path: "fuzz/targets/signed-content"),
        .executableTarget(
            name: "request-head-fuzz", dependencies: ["HTTPServer", "FuzzReplay"], path: "fuzz/targets/request-head"),
        .executableTarget(
            name: "chunked-body-fuzz", dependencies: ["HTTPServer", "FuzzReplay"], path: "fuzz/targets/chunked-body"),
        .executableTarget(
            name: "json-value-fuzz", dependencies: ["TrustPay", "FuzzReplay"], path: "fuzz/targets/json-value"),
        // pthread primitives ThreadSanitizer sees: a lock (Mutex's shape), a
        // blocking FIFO and thread start, for the code outside Swift concurrency.
        .target(name: "Locking", dependencies: ["CLinuxSys"]),
        // Duration's conversions to the units other APIs take, written once.
        .target(name: "Durations"),
        // The one `withDeadline` (answers owed to TrustPay cannot wait for code
        // that ignores cancellation) and the executor a thread belongs to.
        .target(name: "Deadlines", dependencies: ["Durations", "Locking"]),
        // posix_spawn children with a clean signal mask, awaited off the pool.
        .target(name: "ChildProcesses", dependencies: ["CLinuxSys", "Locking"]),
        // The standalone binary's handlers: log, jsonl, forward, exec.
        .target(
            name: "BuiltinHandlers",
            dependencies: ["Durations",
                "Locking", "ChildProcesses", "TrustPay", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // The standalone server's YAML configuration, validated with key names.
        .target(
            name: "ServiceConfiguration",
            dependencies: ["Durations", "Inbox", "NetworkAddresses", .product(name: "Yams", package: "Yams")]),
        // The system SQLite 3 (libsqlite3-dev).
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite",
            providers: [.apt(["libsqlite3-dev"])]),
        // The writer's VFS: a transaction's WAL frames written at once (C).
        .target(name: "CSQLiteWALBuffer", dependencies: ["CSQLite"]),
        .target(name: "SQLiteStore", dependencies: ["Durations", "Locking", "CSQLite", "CSQLiteWALBuffer"]),
        // The durable inbox: the Inbox protocols on SQLiteStore.
        .target(name: "SQLiteInbox", dependencies: ["Durations", "Locking", "Inbox", "SQLiteStore"]),
        // The idempotency store on PostgreSQL, shared by several replicas.
        .target(
            name: "PostgresInbox",
            dependencies: ["Durations", "Locking", "Deadlines",
                "Inbox",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The operator console: pages and a JSON API on the admin listener,
        // and how events are shown to an operator (shared with `events`).
        // Its HTML, CSS and JavaScript are compiled in: no files at run time.
        .target(
            name: "OperatorConsole",
            dependencies: ["Durations", "Locking", "HTTPServer", "Inbox", "Webhooks", "TrustPay"],
            resources: [
                .embedInCode("Assets/console.html"), .embedInCode("Assets/login.html"),
                .embedInCode("Assets/console.css"), .embedInCode("Assets/console.js"),
            ]),
        // The reconciliation sweep: asks the Order Query API about orders
        // that may have missed a callback and records what is new.
        .target(
            name: "Reconciliation",
            dependencies: ["Durations", 
                "Inbox", "Webhooks", "TrustPay", "TrustPayAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),
        // Private PostgreSQL clusters (initdb/pg_ctl on loopback) for tests and the crash drill.
        .target(name: "PostgresTestCluster", dependencies: ["Locking"], path: "Tests/Fixtures/PostgresTestCluster"),
        // Writes with group commit and prints each acknowledged id, until
        // killed: the crash test's subject.
        .executableTarget(
            name: "sqlite-crash-probe", dependencies: ["SQLiteStore"], path: "Tests/Fixtures/sqlite-crash-probe"),
        .executableTarget(
            name: "trustpay-webhooks",
            dependencies: ["Durations",
                "HTTPServer", "TrustPay", "Inbox", "Webhooks", "ServiceConfiguration", "BuiltinHandlers", "AccessControl",
                "SQLiteInbox", "PostgresInbox", "COpenSSL", "OperatorConsole", "NetworkAddresses", "TrustPaySimulator",
                "Reconciliation", "TrustPayAPI",
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // jemalloc instead of glibc's malloc, for the binary only (the
            // libraries leave the choice to the merchant's program): a
            // callback allocates about a hundred small objects, and glibc spent
            // a quarter of the server's CPU on them, consolidating its free
            // lists whenever a request allocated past 1 KiB. ARCHITECTURE.md
            // has the measurement. Needs libjemalloc-dev to build.
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]),
        // What several test targets share: temporary directories, the writer
        // gate, built executables, the PostgreSQL requirement, a store that
        // tells when its workers are idle, throwaway TLS certificates. For tests only.
        .target(
            name: "TestSupport",
            dependencies: ["Locking",
                "Inbox", "InboxTesting", "Webhooks", "SQLiteStore", "PostgresTestCluster", "TrustPayWebhooksTesting",
                "ChildProcesses",
                "HTTPServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"),
        .testTarget(
            name: "HTTPServerTests", dependencies: ["Locking", "HTTPServer", "ChildProcesses", "TrustPayWebhooksTesting", "TestSupport"]),
        // The console's API on real sockets, and its pages in headless Chromium.
        .testTarget(
            name: "OperatorConsoleTests",
            dependencies: [
                "OperatorConsole", "HTTPServer", "Inbox", "InboxTesting", "Webhooks", "TrustPay", "ChildProcesses",
                "TrustPayWebhooksTesting",
                "TestSupport",
            ]),
        .testTarget(
            name: "ReconciliationTests",
            dependencies: [
                "Reconciliation", "Inbox", "Webhooks", "TrustPay", "TrustPayAPI", "SQLiteInbox", "TrustPayWebhooksTesting",
                "TestSupport", "Locking", .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "ServiceConfigurationTests", dependencies: ["ServiceConfiguration", "NetworkAddresses"]),
        .testTarget(name: "AccessControlTests", dependencies: ["AccessControl", "NetworkAddresses", "HTTPServer"]),
        // The module graph's arrows, read from `swift package dump-package`.
        .testTarget(name: "ArchitectureTests", dependencies: ["ChildProcesses"]),
        // The API client against a scripted provider on a real loopback socket.
        .testTarget(
            name: "TrustPayAPITests",
            dependencies: ["TrustPayAPI", "TrustPay", "HTTPServer", "Locking", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The simulator against the real API client and a real receiving socket.
        .testTarget(
            name: "TrustPaySimulatorTests",
            dependencies: ["TrustPaySimulator", "TrustPayAPI", "TrustPay", "HTTPServer", "Locking",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        // The spawn's promises, checked in the child through /proc.
        .testTarget(name: "ChildProcessesTests", dependencies: ["ChildProcesses"]),
        .testTarget(name: "DeadlinesTests", dependencies: ["Deadlines", "Locking", "TestSupport"]),
        .testTarget(name: "BuiltinHandlersTests", dependencies: ["BuiltinHandlers", "HTTPServer", "ChildProcesses"]),
        .testTarget(
            name: "SQLiteStoreTests",
            dependencies: ["SQLiteStore", "sqlite-crash-probe", "ChildProcesses", "TrustPayWebhooksTesting", "TestSupport"]),
        .testTarget(
            name: "SQLiteInboxTests",
            dependencies: [
                "SQLiteInbox", "SQLiteStore", "Inbox", "Locking", "InboxTesting", "Webhooks", "TrustPay", "TrustPayWebhooksTesting",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "TrustPayTests", dependencies: ["TrustPay", "TrustPayWebhooksTesting", "CallbackReshaping"],
            resources: [.copy("Fixtures")]),
        // Runs the built binary: sign/verify, send → serve → jsonl, exit codes.
        .testTarget(
            name: "TrustPayWebhooksCLITests",
            dependencies: ["ServiceConfiguration", "TrustPayWebhooksTesting", "Locking",
                "trustpay-webhooks", "TrustPay", "Inbox", "Webhooks", "ChildProcesses", "HTTPServer", "BuiltinHandlers", "TestSupport",
                "TrustPayAPI", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "SQLiteInbox", "PostgresTestCluster", "TrustPaySimulator",
            ],
            // Run by ConsoleBrowserTests with python3 and Selenium.
            exclude: ["Browser/console_browser.py"]),
        // Kills `serve` with SIGKILL under load, restarts it, and checks that
        // every acknowledged callback was stored and handled once.
        .executableTarget(
            name: "crash-drill",
            dependencies: ["Durations", "Locking",
                "TrustPay", "TrustPayWebhooksTesting", "ChildProcesses", "PostgresTestCluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/Drills/crash-drill"),
        .testTarget(name: "CrashDrillTests", dependencies: ["crash-drill", "trustpay-webhooks", "ChildProcesses", "TestSupport"]),
        .testTarget(
            name: "PostgresInboxTests",
            dependencies: ["TrustPay", "Locking",
                "PostgresInbox", "Inbox", "InboxTesting", "Webhooks", "TrustPayWebhooksTesting", "PostgresTestCluster",
                "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "WebhooksTests",
            dependencies: ["TrustPay", "HTTPServer", "Locking", "Deadlines",
                "Inbox", "InboxTesting", "Webhooks", "TrustPayWebhooksTesting", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        // The pipeline's promises that hold whatever the store: each test
        // runs on the memory, SQLite and PostgreSQL inboxes.
        .testTarget(
            name: "IdempotencyStoreTests",
            dependencies: ["TrustPay", 
                "Inbox", "Webhooks", "SQLiteInbox", "PostgresInbox", "PostgresTestCluster", "TrustPayWebhooksTesting",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)

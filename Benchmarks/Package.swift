// swift-tools-version:6.1
import PackageDescription

// Benchmarks and their tools, apart from the product (as SwiftNIO keeps its
// `Benchmarks/` package): `swift build` at the repository root never builds
// these, nor does CI. Build them from here, release mode:
//
//     swift build -c release --package-path Benchmarks
//
// The scripts under ../scripts (bench-pipeline, bench-sqlite, bench-all) do.
let package = Package(
    name: "trustpay-webhooks-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "trustpay-webhooks", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The Swift peer the issue compares against, written as its users write it.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        // Acknowledged SQLite writes per second with and without group commit.
        .executableTarget(
            name: "sqlite-bench",
            dependencies: [
                .product(name: "_SQLiteStore", package: "trustpay-webhooks"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Signed payment callbacks, one body per line, for wrk (scripts/bench-pipeline, scripts/bench-all).
        .executableTarget(
            name: "bench-corpus",
            dependencies: [
                .product(name: "TrustPayWebhooksTesting", package: "trustpay-webhooks"),
                .product(name: "TrustPay", package: "trustpay-webhooks"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Requests through the head parser and the pipeline (memory or
        // SQLite inbox), no sockets: instruction counts under callgrind.
        .executableTarget(
            name: "pipeline-harness",
            dependencies: [
                .product(name: "HTTPServer", package: "trustpay-webhooks"),
                .product(name: "Inbox", package: "trustpay-webhooks"),
                .product(name: "SQLiteInbox", package: "trustpay-webhooks"),
                .product(name: "PostgresInbox", package: "trustpay-webhooks"),
                .product(name: "Webhooks", package: "trustpay-webhooks"),
                .product(name: "TrustPay", package: "trustpay-webhooks"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // Hummingbird 2: parse, verify, de-duplicate in a Set or with GRDB.
        .executableTarget(
            name: "hummingbird-peer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TrustPay", package: "trustpay-webhooks"),
                .product(name: "Logging", package: "swift-log"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)

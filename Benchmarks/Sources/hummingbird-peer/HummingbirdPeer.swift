import Foundation
import GRDB
import Hummingbird
import Logging
import Synchronization
import TrustPay

/// The peer issue #14 measures the server against: what a merchant would
/// write with Hummingbird 2 in a few lines, doing the same work per callback
/// (parse the JSON, check the MD5 signature, de-duplicate, answer `200`).
///
///     TRUSTPAY_SECRET=… hummingbird-peer --port 8080 --store memory
///     TRUSTPAY_SECRET=… hummingbird-peer --port 8080 --store grdb --database data/peer.sqlite
///
/// The signature is checked with this project's `TrustPay` module
/// (`CallbackAuthenticator`), the same code our pipeline runs, so the two
/// servers differ in everything but that. `memory` keeps the seen keys in a
/// `Set` behind a `Mutex`; `grdb` writes each callback in its own write
/// transaction (`DatabasePool`: WAL) with `synchronous=FULL`, an `INSERT … ON
/// CONFLICT DO NOTHING` on a unique key, and answers after the commit.
@main
struct HummingbirdPeer {
    static func main() async throws {
        let options = try Options(CommandLine.arguments.dropFirst())
        guard let secret = ProcessInfo.processInfo.environment["TRUSTPAY_SECRET"], !secret.isEmpty else {
            throw Options.Invalid("set TRUSTPAY_SECRET")
        }
        let keys = MerchantKeys(merchantID: options.merchantID, secrets: [secret])
        let inbox: any Inbox =
            switch options.store {
            case "memory": MemorySet()
            case "grdb": try GRDBInbox(path: options.database)
            default: throw Options.Invalid("--store is memory or grdb")
            }

        let authenticator = CallbackAuthenticator()
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.post("/trustpay/payment") { request, _ -> HTTPResponse.Status in
            var request = request
            let buffer = try await request.collectBody(upTo: 64 * 1024)
            let body = Array(buffer.readableBytesView)
            let payment: AuthenticCallback<PaymentCallback>
            do {
                payment = try authenticator.payment(body: body) { id in id == keys.merchantID ? keys : nil }
            } catch {
                throw HTTPError(.badRequest, message: "\(error)")
            }
            let callback = payment.callback
            let key = "\(callback.merchantID)/\(callback.type.rawValue)/\(callback.orderNo)/\(callback.status.code)"
            try await inbox.record(key: key, body: body)
            return .ok
        }

        var logger = Logger(label: "hummingbird-peer")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: options.port)), logger: logger)
        try await app.runService()
    }
}

protocol Inbox: Sendable {
    func record(key: String, body: [UInt8]) async throws
}

/// Variant A: de-duplication in memory.
final class MemorySet: Inbox {
    private let seen = Mutex(Set<String>())

    func record(key: String, body: [UInt8]) async throws {
        _ = seen.withLock { $0.insert(key) }
    }
}

/// Variant B: GRDB, one write transaction (and fsync) per callback.
final class GRDBInbox: Inbox {
    private let pool: DatabasePool

    init(path: String) throws {
        pool = try DatabasePool(path: path)
        // Set on the writer once the pool is open: `DatabasePool` sets up WAL
        // mode after `prepareDatabase` and sets `synchronous = NORMAL` then,
        // so a `prepareDatabase` pragma is overridden and commits were not
        // fsynced (strace: 39 fdatasync for 5,805 callbacks; BENCHMARKS.md
        // session 10). Read back, so that the peer cannot run without it.
        let synchronous = try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        guard synchronous == 2 else { throw Options.Invalid("the GRDB writer did not take synchronous = FULL") }
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS callbacks (
                        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, body BLOB NOT NULL, received_at REAL NOT NULL)
                    """)
        }
    }

    func record(key: String, body: [UInt8]) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO callbacks (key, body, received_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                arguments: [key, Data(body), Date().timeIntervalSince1970])
        }
    }
}

struct Options {
    var port = 8080
    var store = "memory"
    var database = "peer.sqlite"
    var merchantID: Int64 = 8_820_250_900_009

    struct Invalid: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    init(_ arguments: ArraySlice<String>) throws {
        var arguments = arguments
        while let name = arguments.popFirst() {
            guard let value = arguments.popFirst() else { throw Invalid("\(name) needs a value") }
            switch name {
            case "--port": port = try Self.number(value, name)
            case "--store": store = value
            case "--database": database = value
            case "--merchant": merchantID = Int64(try Self.number(value, name))
            default: throw Invalid("unknown option \(name)")
            }
        }
    }

    private static func number(_ text: String, _ name: String) throws -> Int {
        guard let value = Int(text) else { throw Invalid("\(name) needs a number") }
        return value
    }
}

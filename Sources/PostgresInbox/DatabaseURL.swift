import Foundation
import PostgresNIO

/// A PostgreSQL connection URL as libpq writes them, parsed into a client
/// configuration:
///
/// ```
/// postgres://webhooks:secret@db.internal:5432/trustpay?sslmode=require
/// postgresql:///trustpay?host=/var/run/postgresql        (Unix socket)
/// ```
///
/// `sslmode` is `disable`, `prefer` (the default), `require` (encrypted, the
/// certificate not checked), `verify-ca` or `verify-full`. The user defaults
/// to `postgres`, the database to the user's name.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    public let configuration: PostgresClient.Configuration
    /// The URL without its password, for logs.
    public let description: String

    public init(_ text: String) throws(DatabaseURLError) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else { throw .notAPostgresURL }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let username = components.user?.removingPercentEncoding ?? query["user"] ?? "postgres"
        let password = components.password?.removingPercentEncoding ?? query["password"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path.isEmpty ? query["dbname"] : path.removingPercentEncoding
        let port = components.port ?? Int(query["port"] ?? "") ?? 5432
        let host = components.host.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding } ?? query["host"]

        if let host, host.hasPrefix("/") {
            configuration = PostgresClient.Configuration(
                unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch query["sslmode"] ?? "prefer" {
            case "disable": tls = .disable
            case "allow", "prefer": tls = .prefer(Self.tls(verify: .none))
            case "require": tls = .require(Self.tls(verify: .none))
            case "verify-ca": tls = .require(Self.tls(verify: .noHostnameVerification))
            case "verify-full": tls = .require(Self.tls(verify: .fullVerification))
            case let other: throw .unknownSSLMode(other)
            }
            configuration = PostgresClient.Configuration(
                host: host ?? "localhost", port: port, username: username, password: password, database: database,
                tls: tls)
        }
        var safe = components
        if safe.password != nil { safe.password = "***" }
        safe.queryItems = safe.queryItems?.map { $0.name == "password" ? URLQueryItem(name: $0.name, value: "***") : $0 }
        description = safe.string ?? "postgres://…"
    }

    private static func tls(verify: CertificateVerification) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = verify
        return tls
    }
}

/// Why a database URL was not accepted.
public enum DatabaseURLError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAPostgresURL
    case unknownSSLMode(String)

    public var description: String {
        switch self {
        case .notAPostgresURL:
            "the database URL must look like postgres://user:password@host:5432/database"
        case .unknownSSLMode(let mode):
            "sslmode \(mode) is not one of disable, prefer, require, verify-ca, verify-full"
        }
    }
}

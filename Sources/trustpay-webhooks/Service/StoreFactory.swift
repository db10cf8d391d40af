import Foundation
import Inbox
import Logging
import PostgresInbox
import SQLiteInbox
import ServiceConfiguration
import Webhooks

/// What every configured store is: the pipeline's inbox, what the console,
/// the `events` commands and retention administer, and what reconciliation
/// keeps. Named as one type so that no caller casts at run time.
typealias ServedInbox = InboxAdministration & ReconciliationStore

/// Opens the configured store. The pipeline and the `events` commands use
/// it the same way, so they see the same data.
enum StoreFactory {
    /// `servingAnyway`: a PostgreSQL database that cannot be reached (or
    /// migrated) yet is logged, not thrown, so that `serve` starts and
    /// answers 503 until it can; the commands want the error at once.
    static func open(
        _ settings: StoreSettings, environment: [String: String], logger: Logger, servingAnyway: Bool = false
    ) async throws
        -> any ServedInbox
    {
        switch settings.kind {
        case .memory:
            logger.warning("store.kind is memory: acknowledged callbacks are lost when the process stops")
            return MemoryInbox()
        case .sqlite:
            let inbox = try await SQLiteInbox.open(
                path: settings.sqlitePath, synchronous: settings.sqliteSynchronousFull ? .full : .normal,
                maxBatch: settings.sqliteGroupCommit ? SQLiteInbox.defaultMaxBatch : 1)
            logger.info("store: SQLite", metadata: ["path": "\(settings.sqlitePath)"])
            if !settings.sqliteGroupCommit {
                logger.warning("store.sqlite.group_commit is false: every callback waits for an fsync of its own")
            }
            return inbox
        case .postgres:
            guard let source = settings.postgresURL else {
                throw ConfigurationError(key: "store.postgres.url", message: "required when store.kind is postgres")
            }
            let url = try source.resolve(key: "store.postgres.url", environment: environment).secret
            guard servingAnyway else {
                return try await PostgresInbox.connect(
                    url: url, poolSize: settings.postgresPoolSize, operationTimeout: settings.postgresTimeout,
                    logger: logger)
            }
            // One connection more than pool_size: `serve` keeps one holding the replica's name (ClaimRecovery).
            let inbox = try PostgresInbox(
                url: url, poolSize: settings.postgresPoolSize + 1, operationTimeout: settings.postgresTimeout,
                logger: logger)
            inbox.start()
            do {
                try await inbox.migrate()
                logger.info("PostgreSQL inbox ready", metadata: ["database": "\(inbox.databaseDescription)"])
            } catch {
                // Not fatal: callbacks are answered 503 (and /readyz too) until
                // it answers; the first call that reaches it migrates it.
                logger.error(
                    "PostgreSQL is unavailable at start; serving anyway, answering 503 until it answers",
                    metadata: ["database": "\(inbox.databaseDescription)", "error": "\(error)"])
            }
            return inbox
        }
    }
}

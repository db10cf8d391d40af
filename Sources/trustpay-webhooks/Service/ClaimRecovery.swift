import Foundation
import Glibc
import Inbox
import Logging
import PostgresInbox
import SQLiteInbox
import ServiceConfiguration
import Webhooks

/// What lets a restarted server take back, at once, the events its dead
/// predecessor had claimed, instead of waiting out `store.lease`:
///
/// - SQLite: the server owns the database (`SQLiteOwnership`, taken before
///   the store opens; a second `serve` on the same file is refused), so every
///   lease in it belongs to a dead process and is released at start.
/// - PostgreSQL: the replica holds its name (`replica.name`) for as long as
///   it runs, and counts an incarnation; leases are owned by `name#N/…`,
///   and those of earlier incarnations are released once the name is held.
///   A name another live replica holds is refused.
enum ClaimRecovery {
    /// The SQLite lock, taken before the store is opened.
    static func ownDatabase(_ settings: StoreSettings) throws -> SQLiteOwnership? {
        guard settings.kind == .sqlite else { return nil }
        return try SQLiteOwnership.acquire(databasePath: settings.sqlitePath)
    }

    /// Releases what earlier runs left claimed; returns the lease owner
    /// prefix this process must use (nil: any).
    static func recover(
        store: any IdempotencyStore, settings: ServiceSettings, logger: Logger
    ) async throws -> String? {
        if let inbox = store as? SQLiteInbox {
            do {
                let released = try await inbox.releaseAllLeases()
                if released > 0 {
                    // Warning: a server that stopped cleanly leaves none behind.
                    logger.warning("released the claims of an earlier run at once", metadata: ["events": "\(released)"])
                }
            } catch {
                // Not fatal: those events run when their leases expire.
                logger.warning("could not release the claims of an earlier run", metadata: ["error": "\(error)"])
            }
            return nil
        }
        guard let inbox = store as? PostgresInbox else { return nil }
        let name = settings.replica.name ?? hostName()
        do {
            let incarnation = try await inbox.holdReplicaName(name, lost: lostName(logger))
            try await release(inbox, name: name, keeping: incarnation.ownerPrefix, logger: logger)
            logger.info("replica name held", metadata: ["replica": "\(incarnation.ownerPrefix)"])
            return incarnation.ownerPrefix
        } catch let error as ReplicaNameError {
            throw error
        } catch {
            // PostgreSQL is down at start (serve runs anyway, answering 503):
            // take the name once it answers. Until then this process's claims
            // carry a random incarnation of the name.
            let prefix = "\(name)#r\(UInt32.random(in: 0...UInt32.max))"
            logger.warning(
                "cannot hold the replica name yet (PostgreSQL unavailable); will keep trying",
                metadata: ["replica": "\(name)", "error": "\(error)"])
            inbox.holdReplicaNameOnceAvailable(
                name, keeping: prefix,
                held: { released in
                    logger.info("replica name held", metadata: ["replica": "\(prefix)"])
                    if released > 0 {
                        logger.warning("released the claims of an earlier run at once",
                                       metadata: ["replica": "\(name)", "events": "\(released)"])
                    }
                },
                lost: lostName(logger))
            return prefix
        }
    }

    private static func release(_ inbox: PostgresInbox, name: String, keeping prefix: String, logger: Logger) async throws {
        let released = try await inbox.releaseClaims(ofReplica: name, except: prefix)
        if released > 0 {
            logger.warning("released the claims of an earlier run at once", metadata: ["replica": "\(name)", "events": "\(released)"])
        }
    }

    /// Another live replica has this one's name: two replicas would release
    /// each other's claims, so this one stops.
    private static func lostName(_ logger: Logger) -> @Sendable (ReplicaNameError) -> Void {
        { error in
            logger.critical("stopping: \(error)")
            kill(getpid(), SIGTERM)
        }
    }

    static func hostName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}

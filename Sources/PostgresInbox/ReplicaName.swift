import Deadlines
import Foundation
import Inbox
import Logging
import PostgresNIO

/// One start of a named replica: `web-1#7` is the seventh process to have
/// run as `web-1`. Its lease owners start with ``ownerPrefix``.
public struct ReplicaIncarnation: Sendable, Equatable {
    public let name: String
    public let number: Int64

    /// `name#number`: what this incarnation's lease owners start with.
    public var ownerPrefix: String { "\(name)#\(number)" }
}

/// Why a replica may not run under its name.
public enum ReplicaNameError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A live replica holds the name.
    case inUse(name: String, database: String)

    public var description: String {
        switch self {
        case .inUse(let name, let database):
            "another live replica is running as '\(name)' on \(database): two replicas must never share a name "
                + "(each releases its earlier incarnations' claims at start). Give this one another replica.name"
        }
    }
}

extension PostgresInbox {
    /// Makes this process the one live replica called `name`, and returns
    /// its incarnation (one more than the last process of that name had).
    ///
    /// The name is held by a session advisory lock on a connection of the
    /// pool, kept for as long as the inbox runs (so the pool has one
    /// connection less for store calls: `serve` makes its pool one larger
    /// than `store.postgres.pool_size`): PostgreSQL drops it when the
    /// process dies, however it dies. A process killed a moment ago may hold
    /// it for as long as its server takes to notice, so a held name is
    /// tried again for `patience` before ``ReplicaNameError/inUse(name:database:)``.
    /// If the connection is lost later, the name is taken again on a new one;
    /// should another replica hold it by then, `lost` is called.
    public func holdReplicaName(
        _ name: String, patience: Duration = .seconds(10), lost: @escaping @Sendable (ReplicaNameError) -> Void = { _ in }
    ) async throws -> ReplicaIncarnation {
        try await migrate()
        let (outcomes, continuation) = AsyncStream.makeStream(of: Result<ReplicaIncarnation, any Error>.self)
        let started = keepRunning { [self] in
            var first = true
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        let incarnation = try await Self.lockName(name, on: connection, patience: first ? patience : .seconds(30),
                                                                  database: databaseDescription, logger: driverLogger)
                        if first { continuation.yield(.success(incarnation)) }
                        first = false
                        // Held until this connection ends: look at it now and then, to take the name again on another.
                        do {
                            while true {
                                try await Task.sleep(for: .seconds(5))
                                // Bounded: a query sent as PostgreSQL went down was seen never
                                // to answer nor to notice cancellation, which kept the name
                                // from being taken again and shutdown from ending.
                                try await withDeadline(operationTimeout) { [driverLogger] in
                                    _ = try await connection.query("SELECT 1", logger: driverLogger).collect()
                                }.get()
                            }
                        } catch {
                            // Given up (shut down): close the connection rather than hand it back to the
                            // pool still holding the name, so a successor can take it at once. In a task
                            // of its own: this one is cancelled, and a cancelled close does not happen.
                            await Task { try? await connection.close() }.value
                            throw error
                        }
                    }
                } catch is CancellationError {
                    break
                } catch let error as ReplicaNameError {
                    if first { continuation.yield(.failure(error)) } else { lost(error) }
                    break
                } catch {
                    if first {
                        continuation.yield(.failure(DatabaseFailure.storeError(error, timeout: operationTimeout)))
                        break
                    }
                    logger.warning("lost the connection holding the replica name; taking it again",
                                   metadata: ["replica": "\(name)", "error": "\(String(reflecting: error))"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            continuation.finish()
        }
        guard started else { throw StoreError.unavailable("the PostgreSQL inbox is shut down") }
        for await outcome in outcomes { return try outcome.get() }
        throw CancellationError()
    }

    /// For a replica that started while PostgreSQL was down and runs with
    /// lease owners `ownerPrefix/…` meanwhile: takes `name` once the
    /// database answers (trying every second until ``shutdown()``), then
    /// releases the claims of the name's other incarnations and calls
    /// `held` with how many. `lost` as for ``holdReplicaName(_:patience:lost:)``,
    /// also when the name is found held at the first answer.
    public func holdReplicaNameOnceAvailable(
        _ name: String, keeping ownerPrefix: String, held: @escaping @Sendable (Int) -> Void,
        lost: @escaping @Sendable (ReplicaNameError) -> Void
    ) {
        _ = keepRunning { [self] in
            while !Task.isCancelled {
                do {
                    _ = try await holdReplicaName(name, lost: lost)
                    held(try await releaseClaims(ofReplica: name, except: ownerPrefix))
                    return
                } catch let error as ReplicaNameError {
                    lost(error)
                    return
                } catch {
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Takes the name's advisory lock on `connection`, trying again until
    /// `patience` runs out, then counts the incarnation.
    private static func lockName(
        _ name: String, on connection: PostgresConnection, patience: Duration, database: String, logger: Logger
    ) async throws -> ReplicaIncarnation {
        let key = "trustpay-replica:" + name
        let deadline = ContinuousClock.now + patience
        while true {
            var held = false
            for try await locked in try await connection.query(
                "SELECT pg_try_advisory_lock(hashtextextended(\(key), 0))", logger: logger
            ).decode(Bool.self) {
                held = locked
            }
            if held { break }
            guard ContinuousClock.now < deadline else { throw ReplicaNameError.inUse(name: name, database: database) }
            try await Task.sleep(for: .milliseconds(200))
        }
        var number: Int64 = 0
        for try await value in try await connection.query(
            """
            INSERT INTO trustpay_replicas (name, incarnation, started_at) VALUES (\(name), 1, now())
            ON CONFLICT (name) DO UPDATE SET incarnation = trustpay_replicas.incarnation + 1, started_at = now()
            RETURNING incarnation
            """, logger: logger
        ).decode(Int64.self) {
            number = value
        }
        return ReplicaIncarnation(name: name, number: number)
    }

    /// Ends the leases of the replica's earlier incarnations (owners
    /// `name#…` other than `current`'s), so their events are claimable now
    /// rather than when the leases run out: those processes are dead, as the
    /// name is held. Returns how many were released.
    public func releaseEarlierIncarnations(of current: ReplicaIncarnation, now: Date = Date()) async throws -> Int {
        try await releaseClaims(ofReplica: current.name, except: current.ownerPrefix, now: now)
    }

    /// Ends the leases whose owner is `name#…` but not `ownerPrefix/…`.
    /// Only while holding the name (``holdReplicaName(_:patience:lost:)``).
    public func releaseClaims(ofReplica name: String, except ownerPrefix: String, now: Date = Date()) async throws -> Int {
        let others = name + "#"
        let own = ownerPrefix + "/"
        return try await perform { [self] client in
            let rows = try await client.query(
                """
                UPDATE trustpay_events SET state_at = \(now)
                WHERE state = 'processing' AND state_at > \(now)
                    AND left(lease_owner, length(\(others))) = \(others) AND left(lease_owner, length(\(own))) <> \(own)
                RETURNING id
                """, logger: driverLogger
            ).collect()
            return rows.count
        }
    }
}

import Foundation
import Inbox
import InboxTesting
import PostgresInbox
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks

/// Each test stops and starts a PostgreSQL of its own.
///
/// Times are bounded by ``promptly(_:)``, a multiple of the operation
/// timeout: loose enough for a loaded two-core machine, and still far
/// below a call that waits for the database to come back.
@Suite(.requiresPostgreSQL)
struct OutageTests {
    /// The operation timeout of the inboxes here: calls meant to fail, fail within it.
    static let timeout: Duration = .seconds(2)

    /// The most a call bounded by `timeout` may take on a loaded machine.
    /// Made to fail by giving `claim` the schema's timeout (60 s) and the
    /// server no lock timeout: aQueryStuckBehindALockTimesOut took 60 s.
    /// Ten times, not five: in the whole suite on a two-core machine a
    /// connect to a stopped server took 11.7 s to fail (session 19).
    static func promptly(_ timeout: Duration = timeout) -> Duration { timeout * 10 }

    /// Runs `body` with a private server and a database on it; deletes the server afterwards.
    static func withOwnServer<Result: Sendable>(
        _ body: (TestPostgreSQL, String) async throws -> Result
    ) async throws -> Result {
        let server = try await TestPostgreSQL.start()
        do {
            let result = try await body(server, try await server.createDatabase())
            await server.destroy()
            return result
        } catch {
            await server.destroy()
            throw error
        }
    }

    @Test func whileTheDatabaseIsDownCallsFailPromptlyAndAfterwardsSucceedWithoutANewInbox() async throws {
        try await Self.withOwnServer { server, url in
            // A short timeout, so calls fail promptly while the database is down;
            // while it is up, a loaded machine may still run past it: retry then.
            let inbox = try await untilAvailable {
                try await PostgresInbox.connect(
                    url: url, poolSize: 2, operationTimeout: Self.timeout, logger: testLogger)
            }
            try await using(inbox) {
                _ = try await recordEventually(inbox, newEvent("BEFORE"))

                try await server.stopServer()
                // Open connections were closed by the server, new ones are refused:
                // each call throws StoreError.unavailable within the timeout, several times over.
                for attempt in 0..<3 {
                    let started = ContinuousClock.now
                    do {
                        _ = try await inbox.record(newEvent("DURING-\(attempt)"), lease: .none, now: t0)
                        Issue.record("recorded while the database was down")
                    } catch let error as StoreError {
                        guard case .unavailable = error else { Issue.record("unexpected \(error)"); continue }
                    }
                    let took = ContinuousClock.now - started
                    #expect(took < Self.promptly(), "attempt \(attempt) took \(took)")
                }
                await #expect(throws: StoreError.self) { try await inbox.checkAvailability() }
                await #expect(throws: StoreError.self) {
                    try await inbox.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(30), now: t0)
                }
                // Once found unreachable, new work is refused without queueing
                // for a connection; recording a finished attempt still tries.
                let refused = await #expect(throws: StoreError.self) { try await inbox.record(newEvent("LATER"), lease: .none, now: t0) }
                #expect("\(refused.map { "\($0)" } ?? "")".contains("not tried until it answers again"), "\(String(describing: refused))")
                // (The dispatcher's form: the shorthand without an attempt reads the event first, which is refused.)
                let attempt = HandlerAttempt(number: 1, startedAt: t0, endedAt: t0, outcome: .handled)
                let tried = await #expect(throws: StoreError.self) {
                    try await inbox.complete(id: "unknown", owner: "w", attempt: attempt)
                }
                #expect(!"\(tried.map { "\($0)" } ?? "")".contains("not tried"), "\(String(describing: tried))")

                try await server.startServer()
                // The pool reconnects on its own: the same inbox records again.
                let recorded = try await recordEventually(inbox, newEvent("AFTER"))
                #expect(recorded.orderNo == "AFTER")
                // Itself bounded by the short timeout, which a machine loaded
                // by the rest of the suite passed right after the restart in CI.
                let listed = try await untilAvailable { try await inbox.list(EventFilter()) }
                #expect(listed.map(\.orderNo) == ["BEFORE", "AFTER"])
            }
        }
    }

    @Test func anUnreachableDatabaseFailsConnectWithUnavailable() async throws {
        try await Self.withOwnServer { server, url in
            try await server.stopServer()
            let started = ContinuousClock.now
            await #expect(throws: StoreError.self) {
                _ = try await PostgresInbox.connect(
                    url: url, poolSize: 1, operationTimeout: Self.timeout, logger: testLogger)
            }
            #expect(ContinuousClock.now - started < Self.promptly())
        }
    }

    @Test func anInboxStartedWhileTheDatabaseIsDownMigratesOnceItIsUp() async throws {
        try await Self.withOwnServer { server, url in
            try await server.stopServer()
            let inbox = try PostgresInbox(
                url: url, poolSize: 2, operationTimeout: Self.timeout, logger: testLogger)
            inbox.start()
            try await using(inbox) {
                await #expect(throws: StoreError.self) { try await inbox.record(newEvent(), lease: .none, now: t0) }
                try await server.startServer()
                let recorded = try await recordEventually(inbox, newEvent())
                #expect(recorded.state == .pending)
            }
        }
    }

    @Test func aQueryStuckBehindALockTimesOut() async throws {
        try await Self.withOwnServer { _, url in
            let inbox = try await untilAvailable {
                try await PostgresInbox.connect(
                    url: url, poolSize: 2, operationTimeout: Self.timeout, logger: testLogger)
            }
            try await using(inbox) {
                let event = try await recordEventually(inbox, newEvent())
                // Another session holds the event's row lock and does not let go.
                try await withRawClient(url) { client in
                    try await client.withTransaction(logger: testLogger) { connection in
                        try await connection.query(
                            "SELECT id FROM trustpay_events WHERE id = \(event.id) FOR UPDATE", logger: testLogger)
                        let started = ContinuousClock.now
                        await #expect(throws: StoreError.self) {
                            _ = try await inbox.claim(id: event.id, owner: "w", leaseDuration: .seconds(30), now: t0)
                        }
                        #expect(ContinuousClock.now - started < Self.promptly())
                    }
                }
                // The server gave up on the claim (it did not claim later, behind
                // the caller's back): once the lock is gone the same call succeeds.
                let claimed = try await untilAvailable {
                    try await inbox.claim(id: event.id, owner: "w", leaseDuration: .seconds(30), now: t0)
                }
                #expect(claimed != nil)
            }
        }
    }
}

/// `body` again and again while it throws `StoreError` (the database is down,
/// or a loaded machine ran past a short operation timeout), until `timeout`.
func untilAvailable<Result: Sendable>(
    timeout: Duration = .seconds(30), _ body: () async throws -> Result
) async throws -> Result {
    let deadline = ContinuousClock.now + timeout
    while true {
        do {
            return try await body()
        } catch let error as StoreError {
            guard ContinuousClock.now < deadline else { throw error }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Records `new` once the database answers.
func recordEventually(_ inbox: PostgresInbox, _ new: NewInboxEvent, timeout: Duration = .seconds(30)) async throws -> InboxEvent {
    try await untilAvailable(timeout: timeout) { try await inbox.record(new, lease: .none, now: t0).event }
}

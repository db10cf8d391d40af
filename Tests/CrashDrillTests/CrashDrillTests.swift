import ChildProcesses
import Foundation
import Testing
import TestSupport

/// The crash drill against the built binary: real processes, real SIGKILLs,
/// a real PostgreSQL. Each run checks callback by callback (see the drill's
/// Verdict) that every acknowledged callback is stored once, and handled
/// again only when a kill interrupted its handler (or the database was down
/// when its completion was recorded): a kill between the handler's end and
/// the recorded completion makes a second run that no store can prevent.
/// These tests check that the drill ran the whole plan and passed, that
/// every extra run was one of those, and that the drill does fail when the
/// store loses what it acknowledged.
@Suite(.serialized) struct CrashDrillTests {
    @Test("SQLite server killed ten times under load: every callback stored once; handled again only when a kill interrupted the handler")
    func sqliteServerKilledTenTimesStoresEachCallbackOnceAndHandlesItAgainOnlyAfterAKill() async throws {
        let report = try await Drill.run(["--store", "sqlite", "--callbacks", "3000", "--duplicates", "600",
                                          "--forged", "100", "--kills", "10"])
        #expect(report.status == 0, "\(report.output)")
        #expect(report.int("kills") == 10)
        #expect(report.int("acknowledged") == 3000)
        #expect(report.int("stored_events") == 3000)
        #expect(report.int("violations") == 0)
        #expect(report.int("handler_runs") == 3000 + report.int("handled_again_after_kill"),
                "one run per callback, and one more per run a kill interrupted")
        #expect(report.map("answers")["401"] == 100)
    }

    @Test(
        "PostgreSQL, two replicas, one killed ten times: every callback stored once; handled again only when a kill interrupted the handler",
        .requiresPostgreSQL)
    func postgresTwoReplicasOneKilledTenTimesStoreEachCallbackOnceAndHandleItAgainOnlyAfterAKill() async throws {
        let report = try await Drill.run(["--store", "postgres", "--replicas", "2", "--callbacks", "2000",
                                          "--duplicates", "400", "--simultaneous", "200", "--forged", "50",
                                          "--kills", "10"])
        #expect(report.status == 0, "\(report.output)")
        #expect(report.int("kills") == 10)
        #expect(report.int("acknowledged") == 2000)
        #expect(report.int("stored_events") == 2000)
        #expect(report.int("violations") == 0)
        #expect(report.int("handler_runs") == 2000 + report.int("handled_again_after_kill"),
                "one run per callback, and one more per run a kill interrupted")
        // Sent to both replicas at once and answered 200 by both; the
        // verdict checked each was stored once, and handled again only after a kill.
        #expect(report.int("simultaneous_pairs_both_200") > 0)
    }

    /// The outage outlasts the store's operation timeout (2 s in the drill), so requests
    /// waiting on the database are answered 503 before it comes back.
    @Test(.requiresPostgreSQL)
    func postgresOutageIsAnswered503AndServiceResumesWithoutRestart() async throws {
        let report = try await Drill.run(["--store", "postgres", "--replicas", "2", "--callbacks", "1500",
                                          "--duplicates", "200", "--forged", "20", "--kills", "0", "--outage", "8"])
        #expect(report.status == 0, "\(report.output)")
        #expect(report.int("server_starts") == 2)
        #expect(report.map("outage_answers")["503", default: 0] > 0)
        // -1 when no 200 came; the drill gives up after 120 s.
        #expect((0...120).contains(report.double("outage_recovery_seconds")), "\(report.output)")
        #expect(report.int("acknowledged") == 1500)
        #expect(report.int("violations") == 0)
        #expect(report.int("handled_again_after_kill") == 0)
        #expect(report.int("handler_runs") == 1500 + report.int("handled_again_after_outage"),
                "one run per callback, and one more per completion the outage kept from being recorded")
    }

    /// A restarted server takes back what its killed predecessor had claimed
    /// at once: it owns the SQLite file, so every lease in it is a dead
    /// process's. With a 300 s lease, every acknowledged callback handled
    /// before that lease could have run out (the drill gives up after 180 s)
    /// means the claims were released, not waited out; no wall clock decides
    /// anything shorter. Failed before the fix (60 s lease): 56–60 s, and no
    /// claims released.
    @Test("SQLite, 300 s lease, killed three times: every acknowledged callback handled long before the lease runs out")
    func sqliteRestartRecoversClaimsInSecondsNotALease() async throws {
        let report = try await Drill.run(["--store", "sqlite", "--callbacks", "1500", "--duplicates", "300",
                                          "--forged", "30", "--kills", "3", "--lease", "300s"])
        #expect(report.status == 0, "\(report.output)")
        #expect(report.int("acknowledged") == 1500)
        #expect(report.int("violations") == 0)
        #expect(report.int("released_claims") > 0, "the kills left claims for the restart to release: \(report.output)")
        // -1 when the drill gave up waiting (its drain timeout, 180 s), which
        // a server waiting out the 300 s lease would make it do.
        #expect(report.double("recovery_seconds") >= 0, "\(report.output)")
    }

    /// The same with two PostgreSQL replicas, the first killed: each
    /// replica holds its name, and a restart releases the leases of its
    /// earlier incarnations. Failed before the fix (60 s lease): about 60 s.
    @Test("PostgreSQL, two replicas, 300 s lease, one killed five times: every acknowledged callback handled long before the lease runs out",
          .requiresPostgreSQL)
    func postgresRestartRecoversClaimsInSecondsNotALease() async throws {
        let report = try await Drill.run(["--store", "postgres", "--replicas", "2", "--callbacks", "1500",
                                          "--duplicates", "300", "--simultaneous", "100", "--forged", "30",
                                          "--kills", "5", "--lease", "300s"])
        #expect(report.status == 0, "\(report.output)")
        #expect(report.int("acknowledged") == 1500)
        #expect(report.int("violations") == 0)
        #expect(report.int("released_claims") > 0, "the kills left claims for the restart to release: \(report.output)")
        // -1 when the drill gave up waiting (its drain timeout, 180 s), which
        // a server waiting out the 300 s lease would make it do.
        #expect(report.double("recovery_seconds") >= 0, "\(report.output)")
    }

    /// The control: a store that forgets on SIGKILL must be caught.
    @Test func theDrillCatchesAStoreThatLosesAcknowledgedCallbacks() async throws {
        let report = try await Drill.run(["--store", "memory", "--callbacks", "300", "--duplicates", "0",
                                          "--forged", "0", "--kills", "2", "--drain-timeout", "3"])
        #expect(report.status == 1, "\(report.output)")
        #expect(report.int("violations") > 0)
        #expect(report.output.contains("LOST"))
    }
}

/// Runs the built `crash-drill` (which runs the `trustpay-webhooks` beside it).
enum Drill {
    struct Report: Sendable {
        let status: Int32
        let output: String
        let numbers: [String: Double]
        let maps: [String: [String: Int]]

        /// A number of the JSON report; -1 when it is missing.
        func double(_ key: String) -> Double { numbers[key] ?? -1 }
        func int(_ key: String) -> Int { Int(double(key)) }
        func map(_ key: String) -> [String: Int] { maps[key] ?? [:] }
    }

    static func run(_ arguments: [String]) async throws -> Report {
        let drill = try builtExecutable("crash-drill")
        let reportPath = NSTemporaryDirectory() + "crash-drill-\(UUID().uuidString).json"
        defer { unlink(reportPath) }
        let result = try await ChildProcess.run([drill, "--report", reportPath] + arguments, timeout: .seconds(900))
        let data = FileManager.default.contents(atPath: reportPath) ?? Data()
        let object = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        let numbers = object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        let maps = object.compactMapValues { $0 as? [String: Int] }
        return Report(status: result.status, output: result.stdout + result.stderr, numbers: numbers, maps: maps)
    }
}

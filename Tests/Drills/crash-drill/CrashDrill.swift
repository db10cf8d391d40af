import ArgumentParser
import ChildProcesses
import Foundation
import Glibc
import PostgresTestCluster

/// Proves the server's promise with real crashes: a load generator sends
/// signed callbacks (new ones, duplicates, forged ones) while `serve` is
/// killed with SIGKILL and started again at random moments; afterwards
/// every callback answered `200` must be in the store, handled, and handled
/// more than once only where a kill interrupted it. Exit status 0 when the
/// promise held, 1 when it did not (each broken callback is listed).
@main
struct CrashDrill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash-drill",
        abstract: "kill -9 trustpay-webhooks under load and check nothing acknowledged was lost or handled twice.")

    enum Store: String, ExpressibleByArgument { case sqlite, postgres, memory }

    @Option(help: "sqlite (one server), postgres (replicas sharing one database), or memory: the control, which must fail.")
    var store: Store = .sqlite
    @Option(help: "Servers behind the load generator; the first is the one killed. Default: 1 for sqlite, 2 for postgres.")
    var replicas: Int?
    @Option(help: "Distinct genuine callbacks.")
    var callbacks = 3000
    @Option(help: "Extra sends of genuine callbacks already scheduled (duplicates).")
    var duplicates = 600
    @Option(help: "Duplicates written to every replica at the same instant (with 2+ replicas).")
    var simultaneous = 200
    @Option(help: "Callbacks signed with a wrong secret: must be answered 401 and never stored.")
    var forged = 100
    @Option(help: "How many times the first replica is killed with SIGKILL.")
    var kills = 10
    @Option(help: "Milliseconds between a replica becoming ready and its kill: MIN-MAX, picked at random.")
    var killAfter = "200-900"
    @Option(help: "Stop PostgreSQL for this many seconds in the middle of the load (postgres only, private cluster).")
    var outage: Double = 0
    @Option(help: "Requests per second, all threads together.")
    var rate = 400
    @Option(help: "Load generator threads.")
    var threads = 8
    @Option(help: "Store lease: how soon an event claimed by a killed server is taken over (at least 6s: twice the handler's 3 s).")
    var lease = "6s"
    @Option(help: "Seed for the schedule and the kill times.")
    var seed: UInt64 = UInt64(UInt32(truncatingIfNeeded: time(nil)))
    @Option(help: "The trustpay-webhooks binary. Default: the one beside this program.")
    var binary: String?
    @Option(help: "PostgreSQL URL. Default: a private cluster started for the drill.")
    var postgresURL: String?
    @Option(help: "Working directory (configs, logs, database). Default: a new temporary one, deleted on success.")
    var directory: String?
    @Option(help: "Seconds to wait after the load for every acknowledged event to be completed.")
    var drainTimeout: Double = 180
    @Option(help: "Write the report as JSON to this file.")
    var report: String?

    func run() async throws {
        let binary = try binary ?? Self.siblingBinary()
        let directory = try directory ?? Self.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var cluster: PostgresTestCluster?
        var url = postgresURL
        if store == .postgres && url == nil {
            cluster = try await PostgresTestCluster.start()
            url = try await cluster!.createDatabase()
        }
        if outage > 0 && cluster == nil {
            throw ValidationError("--outage needs --store postgres and the drill's own cluster (no --postgres-url)")
        }
        let plan = DrillPlan(
            options: self, binary: binary, directory: directory, postgresURL: url, cluster: cluster)
        let passed: Bool
        do {
            passed = try await plan.execute()
        } catch {
            await cluster?.destroy()
            throw error
        }
        await cluster?.destroy()
        if passed && self.directory == nil { try? FileManager.default.removeItem(atPath: directory) }
        if !passed {
            print("working directory kept: \(directory)")
            throw ExitCode(1)
        }
    }

    var replicaCount: Int { max(1, replicas ?? (store == .postgres ? 2 : 1)) }

    var killWindow: ClosedRange<Int> {
        get throws {
            let parts = killAfter.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 0, parts[0] <= parts[1] else {
                throw ValidationError("--kill-after wants MIN-MAX milliseconds, e.g. 200-900")
            }
            return parts[0]...parts[1]
        }
    }

    private static func siblingBinary() throws -> String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let candidate = me.deletingLastPathComponent().appendingPathComponent("trustpay-webhooks").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw ValidationError("no trustpay-webhooks beside \(me.path): build it, or pass --binary")
        }
        return candidate
    }

    private static func temporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/crash-drill-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw DrillError("mkdtemp failed: errno \(errno)") }
        return String(cString: made)
    }
}

import ChildProcesses
import Foundation
import Glibc
import PostgresTestCluster
import TrustPayWebhooksTesting

/// One run of the drill: start the replicas, load them while the first is
/// killed (and PostgreSQL stopped, if asked), let the handlers finish, stop
/// everything gracefully, then judge from the store and the handler's log.
struct DrillPlan: Sendable {
    let options: CrashDrill
    let binary: String
    let directory: String
    let postgresURL: String?
    let cluster: PostgresTestCluster?

    let secret = "crash-drill-secret"
    var handlerLog: String { "\(directory)/handler-runs.log" }

    /// Returns whether the promise held; prints the report either way.
    func execute() async throws -> Bool {
        let corpus = DrillCorpus(
            genuine: options.callbacks, duplicates: options.duplicates,
            simultaneous: options.replicaCount > 1 ? options.simultaneous : 0, forged: options.forged,
            secret: secret, seed: options.seed)
        let replicas = try (0..<options.replicaCount).map { index in
            let port = try freeLoopbackPort()
            let name = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(index)))
            return try ServerReplica(
                name: name, port: port, config: config(port: port, replica: name),
                binary: binary, directory: directory)
        }
        do {
            return try await run(corpus: corpus, replicas: replicas)
        } catch {
            // No server outlives a drill that broke off.
            for replica in replicas { replica.kill9() }
            throw error
        }
    }

    private func run(corpus: DrillCorpus, replicas: [ServerReplica]) async throws -> Bool {
        try await onThread { for replica in replicas { try replica.start() } }
        let generator = LoadGenerator(corpus: corpus, rate: options.rate, threads: options.threads)
        let window = try options.killWindow
        let started = ContinuousClock.now
        async let load: Void = onThread { generator.run(ports: replicas.map(\.port)) }
        async let killing = onThread { try killRepeatedly(replicas[0], generator: generator, window: window) }
        async let outage = interruptDatabase(generator: generator)
        try await load
        let loadEnded = ContinuousClock.now
        let loadTime = loadEnded - started
        let kills = try await killing
        let outageReport = try await outage

        let acknowledged = Set(zip(corpus.callbacks, generator.ledger).filter { $0.0.genuine && $0.1.acknowledged }.map(\.0.orderNo))
        let (drained, handledAt) = try await waitForCompletion(of: acknowledged, config: replicas[0].configPath)
        // Recovery: from the last restart (or the end of the load, if later)
        // until the handler had run for every acknowledged callback.
        let recovery = options.kills > 0
            ? handledAt.map { $0 - max(replicas[0].lastSpawn ?? loadEnded, loadEnded) } : nil
        let exits = try await onThread { replicas.map { $0.stop() } }
        let events = try StoredEvent.parse(json: try await listEvents(config: replicas[0].configPath))
        let runs = try HandlerRun.parse(log: (try? String(contentsOfFile: handlerLog, encoding: .utf8)) ?? "")
        let killed = replicas.reduce(into: Set<String>()) { $0.formUnion($1.killedGenerations) }
        var verdict = Verdict(
            corpus: corpus, ledger: generator.ledger, events: events, runs: runs, killed: killed, outage: outageReport?.window)
        for (replica, status) in zip(replicas, exits) where status != 0 {
            verdict.add("replica \(replica.name) exited with status \(status.map(String.init) ?? "none") on SIGTERM")
        }
        if let outageReport { verdict.add(contentsOf: outageReport.problems(replicas: replicas, expectRestarts: options.kills > 0)) }

        let report = DrillReport(
            options: options, corpus: corpus, generator: generator, replicas: replicas, kills: kills,
            loadTime: loadTime, drainTime: drained, recovery: recovery, releasedClaims: releasedClaims(), events: events, runs: runs, verdict: verdict, outage: outageReport)
        print(report.text)
        if let path = options.report { try report.json.write(toFile: path, atomically: true, encoding: .utf8) }
        return verdict.violations.isEmpty
    }

    /// Kills the replica `options.kills` times: each kill comes a random
    /// time after the replica became ready, and not before the load has gone
    /// far enough, so the kills are spread over the whole load however fast
    /// the machine is. Returns the schedule positions the kills hit.
    private func killRepeatedly(_ victim: ServerReplica, generator: LoadGenerator, window: ClosedRange<Int>) throws -> [Int] {
        var random = SeededGenerator(seed: options.seed ^ 0xD1B5_4A32_D192_ED03)
        var positions: [Int] = []
        guard options.kills > 0 else { return positions }
        for kill in 1...options.kills {
            let ready = ContinuousClock.now
            let threshold = generator.progress.scheduled * kill / (options.kills + 1)
            let delay = Duration.milliseconds(window.lowerBound + Int(random.next() % UInt64(window.count)))
            while ContinuousClock.now - ready < delay || generator.progress.sent < threshold {
                if generator.isFinished { break }
                usleep(2_000)
            }
            positions.append(generator.progress.sent)
            victim.kill9()
            try victim.start()
        }
        return positions
    }

    /// With `--outage`, stops PostgreSQL halfway through the load for that
    /// many seconds and counts the answers until it is started again.
    private func interruptDatabase(generator: LoadGenerator) async throws -> OutageReport? {
        guard options.outage > 0, let cluster else { return nil }
        while generator.progress.sent < generator.progress.scheduled / 2 && !generator.isFinished {
            try await Task.sleep(for: .milliseconds(20))
        }
        let stopping = Date()
        try await cluster.stopServer()
        let before = generator.counts
        try await Task.sleep(for: .milliseconds(Int(options.outage * 1000)))
        let during = generator.counts
        try await cluster.startServer()
        let restarted = ContinuousClock.now
        while generator.counts.statuses[200, default: 0] == during.statuses[200, default: 0] {
            if ContinuousClock.now - restarted > .seconds(120) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let recovered = generator.counts.statuses[200, default: 0] > during.statuses[200, default: 0]
        return OutageReport(
            during: during.statuses.merging(before.statuses) { $0 - $1 }.filter { $0.value != 0 },
            unansweredDuring: during.unanswered - before.unanswered,
            recovery: recovered ? ContinuousClock.now - restarted : nil,
            window: stopping.addingTimeInterval(-2)...Date().addingTimeInterval(5))
    }

    /// Waits until every acknowledged callback's event is completed, while
    /// the servers run: first until the handler's log names each (a cheap
    /// read), then until `events list` shows each completed. Returns how
    /// long that took.
    private func waitForCompletion(
        of orders: Set<String>, config: String
    ) async throws -> (Duration, handledAt: ContinuousClock.Instant?) {
        let started = ContinuousClock.now
        let limit = Duration.milliseconds(Int(options.drainTimeout * 1000))
        var handledAt: ContinuousClock.Instant?
        while ContinuousClock.now - started < limit {
            let log = (try? String(contentsOfFile: handlerLog, encoding: .utf8)) ?? ""
            if orders.isSubset(of: Set((try? HandlerRun.parse(log: log))?.map(\.orderNo) ?? [])) {
                handledAt = ContinuousClock.now
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        while ContinuousClock.now - started < limit {
            let json = try await listEvents(config: config)
            let completed = Set(try StoredEvent.parse(json: json).filter { $0.state == "completed" }.map(\.orderNo))
            if orders.isSubset(of: completed) { break }
            try await Task.sleep(for: .seconds(1))
        }
        return (ContinuousClock.now - started, handledAt)
    }

    /// Claims the restarted servers released at start, from their logs
    /// ("released the claims of an earlier run at once … events=N").
    private func releasedClaims() -> Int {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var total = 0
        for file in files where file.hasPrefix("serve-") && file.hasSuffix(".log.err") {
            let text = (try? String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where line.contains("released the claims of an earlier run") {
                if let range = line.range(of: #"events=[0-9]+"#, options: .regularExpression) {
                    total += Int(line[range].dropFirst("events=".count)) ?? 0
                }
            }
        }
        return total
    }

    /// The store's contents for the verdict. The replicas' 2 s PostgreSQL
    /// timeout is for the outage drill; the listing that judges it gets 30 s,
    /// so a loaded machine cannot fail the drill at its last step.
    private func listEvents(config: String) async throws -> String {
        let patience = options.store == .postgres ? ["/usr/bin/env", "TRUSTPAY_WEBHOOKS__STORE__POSTGRES__TIMEOUT=30s"] : []
        let result = try await ChildProcess.run(
            patience + [binary, "events", "list", "--json", "--config", config], timeout: .seconds(60))
        guard result.status == 0 else { throw DrillError("events list failed (\(result.status)): \(result.stderr)") }
        return result.stdout
    }

    /// A replica's configuration: the store under test, a short lease so a
    /// killed server's claims are taken over quickly, and an exec handler
    /// that appends the server's generation, the time and the event to a log
    /// outside it. The
    /// handler refuses a cut-off event (its server was killed while writing
    /// it), as any handler parsing the JSON would.
    private func config(port: Int, replica: String) -> String {
        let store = switch options.store {
        case .sqlite: "kind: sqlite\n  sqlite:\n    path: \(directory)/inbox.sqlite\n    synchronous: full"
        case .postgres: "kind: postgres\n  postgres:\n    url: \"\(postgresURL ?? "")\"\n    pool_size: 4\n    timeout: 2s"
        case .memory: "kind: memory"
        }
        return """
            server:
              host: 127.0.0.1
              port: \(port)
              event_loops: 1
            store:
              \(store)
              lease: \(options.lease)
            routes:
              payment:
                handler_deadline: 3s
            merchants:
              - id: \(DrillCorpus.merchantID)
                secrets: [{value: "\(secret)"}]
            retry:
              attempts: 20
              initial_delay: 200ms
              max_delay: 1s
            handlers:
              - type: exec
                timeout: 3s
                env: [CRASH_DRILL_SERVER]
                command: ["sh", "-c", "line=$(cat); case $line in *}) ;; *) exit 1 ;; esac; printf '%s %s %s\\\\n' \\"$CRASH_DRILL_SERVER\\" \\"$(date +%s%N)\\" \\"$line\\" >> \(handlerLog)"]
            replica:
              name: drill-\(replica)
            logging:
              level: warning

            """
    }
}

/// Runs blocking work on a thread of its own, off the concurrency pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

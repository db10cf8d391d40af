import Foundation
import Durations

/// What the database outage did to the answers.
struct OutageReport: Sendable {
    /// Answers by status while PostgreSQL was stopped.
    let during: [Int: Int]
    let unansweredDuring: Int
    /// From PostgreSQL's restart to the next `200`; nil if none came.
    let recovery: Duration?
    /// When completions could not be recorded: from a handler deadline
    /// before the stop to a few seconds after the service was back.
    let window: ClosedRange<Date>

    func problems(replicas: [ServerReplica], expectRestarts: Bool) -> [String] {
        var problems: [String] = []
        if during[503, default: 0] == 0 { problems.append("no 503 while PostgreSQL was down: \(during)") }
        if recovery == nil { problems.append("no 200 within 120 s of PostgreSQL coming back") }
        for replica in replicas where !expectRestarts && replica.generations != 1 {
            problems.append("replica \(replica.name) had to be restarted (\(replica.generations) starts)")
        }
        return problems
    }
}

/// The drill's findings, as text for people and JSON for tests.
struct DrillReport {
    let summary: [(String, Any)]
    let violations: [String]

    init(options: CrashDrill, corpus: DrillCorpus, generator: LoadGenerator, replicas: [ServerReplica], kills: [Int],
         loadTime: Duration, drainTime: Duration, recovery: Duration?, releasedClaims: Int, events: [StoredEvent], runs: [HandlerRun], verdict: Verdict,
         outage: OutageReport?) {
        let ledger = generator.ledger
        let counts = generator.counts
        let genuine = corpus.callbacks.filter(\.genuine).count
        let starts = replicas.flatMap(\.startTimes).map { Int($0.seconds * 1000) }.sorted()
        var summary: [(String, Any)] = [
            ("store", options.store.rawValue), ("replicas", replicas.count), ("seed", options.seed),
            ("genuine_callbacks", genuine), ("forged_callbacks", corpus.callbacks.count - genuine),
            ("scheduled_sends", corpus.schedule.count),
            ("requests", ledger.reduce(0) { $0 + $1.requests }),
            ("answers", Dictionary(uniqueKeysWithValues: counts.statuses.map { (String($0.key), $0.value) })),
            ("unanswered", counts.unanswered),
            ("acknowledged", zip(corpus.callbacks, ledger).filter { $0.0.genuine && $0.1.acknowledged }.count),
            ("simultaneous_pairs_both_200", verdict.simultaneousPairs),
            ("kills", kills.count), ("kill_positions", kills),
            ("server_starts", starts.count),
            ("start_ms_median", starts.isEmpty ? 0 : starts[starts.count / 2]), ("start_ms_max", starts.last ?? 0),
            ("load_seconds", (loadTime.seconds * 10).rounded() / 10),
            ("drain_seconds", (drainTime.seconds * 10).rounded() / 10),
            // -1: no kills, or not every acknowledged callback was handled.
            ("recovery_seconds", recovery.map { ($0.seconds * 100).rounded() / 100 } ?? -1),
            ("released_claims", releasedClaims),
            ("stored_events", events.count),
            ("stored_by_state", Dictionary(grouping: events, by: \.state).mapValues(\.count)),
            ("handler_runs", runs.count), ("handled_again_after_kill", verdict.redeliveredAfterKill),
            ("handled_again_after_outage", verdict.redeliveredAfterOutage),
            ("violations", verdict.violations.count),
        ]
        if let outage {
            summary.append(("outage_answers", Dictionary(uniqueKeysWithValues: outage.during.map { (String($0.key), $0.value) })))
            summary.append(("outage_unanswered", outage.unansweredDuring))
            summary.append(("outage_recovery_seconds", outage.recovery.map { ($0.seconds * 10).rounded() / 10 } ?? -1))
        }
        self.summary = summary
        violations = verdict.violations
    }

    var text: String {
        var lines = summary.map { "\($0.0): \(render($0.1))" }
        lines.append(violations.isEmpty ? "PASSED: every acknowledged callback stored once; handled again only when a kill or outage interrupted its handler" : "FAILED:")
        lines += violations.prefix(50).map { "  \($0)" }
        if violations.count > 50 { lines.append("  … and \(violations.count - 50) more") }
        return lines.joined(separator: "\n")
    }

    var json: String {
        var object = Dictionary(uniqueKeysWithValues: summary)
        object["violation_list"] = Array(violations.prefix(200))
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private func render(_ value: Any) -> String {
        if let map = value as? [String: Int] {
            return map.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        return "\(value)"
    }
}

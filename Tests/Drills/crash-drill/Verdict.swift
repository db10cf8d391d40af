import Foundation

/// One run of the drill's handler, as the handler itself wrote it down
/// outside the server: which server process ran it (its drill generation),
/// when it finished, for which order, as which delivery attempt.
struct HandlerRun: Sendable {
    let server: String
    let finished: Date
    let orderNo: String
    let attempt: Int

    /// Lines `GENERATION UNIX-NANOSECONDS EVENT-JSON`, appended by the exec handler.
    static func parse(log: String) throws -> [HandlerRun] {
        try log.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, let nanoseconds = Double(parts[1]),
                  let object = try JSONSerialization.jsonObject(with: Data(parts[2].utf8)) as? [String: Any],
                  let orderNo = object["order_no"] as? String, let attempt = object["attempt"] as? Int
            else { throw DrillError("unreadable handler log line: \(line.prefix(200))") }
            return HandlerRun(server: String(parts[0]), finished: Date(timeIntervalSince1970: nanoseconds / 1e9),
                              orderNo: orderNo, attempt: attempt)
        }
    }
}

/// An event as `trustpay-webhooks events list --json` prints it.
struct StoredEvent: Sendable {
    let orderNo: String
    let state: String
    let attempts: Int

    static func parse(json: String) throws -> [StoredEvent] {
        guard let array = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            throw DrillError("events list --json did not print an array")
        }
        return try array.map { object in
            guard let orderNo = object["order_no"] as? String, let state = object["state"] as? String,
                  let attempts = object["attempts"] as? Int
            else { throw DrillError("event without order_no/state/attempts: \(object)") }
            return StoredEvent(orderNo: orderNo, state: state, attempts: attempts)
        }
    }
}

/// The drill's promise, checked callback by callback after the last server
/// stopped: every genuine callback answered `200` is stored once and its
/// handler completed; a handler ran more than once only because the
/// completion could not be recorded: the server running it was killed, or
/// the database was down (`outage`, widened by the time a handler and a
/// reconnection take); nothing forged is answered `200`, stored or handled.
struct Verdict {
    private(set) var violations: [String] = []
    private(set) var redeliveredAfterKill = 0
    private(set) var redeliveredAfterOutage = 0
    private(set) var simultaneousPairs = 0
    private let killed: Set<String>
    private let outage: ClosedRange<Date>?

    init(corpus: DrillCorpus, ledger: [CallbackLedger], events: [StoredEvent], runs: [HandlerRun],
         killed: Set<String>, outage: ClosedRange<Date>?) {
        self.killed = killed
        self.outage = outage
        let eventsByOrder = Dictionary(grouping: events, by: \.orderNo)
        let runsByOrder = Dictionary(grouping: runs, by: \.orderNo)
        let known = Set(corpus.callbacks.map(\.orderNo))

        for (callback, entry) in zip(corpus.callbacks, ledger) {
            let stored = eventsByOrder[callback.orderNo] ?? []
            let handled = runsByOrder[callback.orderNo] ?? []
            if callback.genuine {
                checkGenuine(callback.orderNo, entry, stored, handled)
                if entry.simultaneousPairsAcknowledged > 0 { simultaneousPairs += 1 }
            } else {
                if entry.statuses.keys.contains(where: { $0 != 401 }) {
                    fail(callback.orderNo, "forged callback answered \(entry.statuses), expected only 401")
                }
                if !stored.isEmpty { fail(callback.orderNo, "forged callback was stored") }
                if !handled.isEmpty { fail(callback.orderNo, "forged callback reached the handler") }
            }
        }
        for event in events where !known.contains(event.orderNo) {
            fail(event.orderNo, "stored, but the drill never sent it")
        }
        for run in runs where eventsByOrder[run.orderNo] == nil {
            fail(run.orderNo, "handled, but not in the store")
        }
    }

    private mutating func checkGenuine(
        _ orderNo: String, _ entry: CallbackLedger, _ stored: [StoredEvent], _ handled: [HandlerRun]
    ) {
        guard entry.acknowledged else {
            fail(orderNo, "never acknowledged: \(entry.requests) requests, answers \(entry.statuses), \(entry.unanswered) unanswered")
            return
        }
        guard stored.count == 1, let event = stored.first else {
            fail(orderNo, stored.isEmpty ? "acknowledged with 200 but not in the store: LOST" : "stored \(stored.count) times")
            return
        }
        guard event.state == "completed" else {
            fail(orderNo, "stored but \(event.state) after \(event.attempts) attempts, not completed")
            return
        }
        guard let last = handled.last else {
            fail(orderNo, "recorded completed, but the handler never ran")
            return
        }
        // Every run but the one whose completion was recorded must have been
        // cut short by a kill of its server or by the database outage.
        for run in handled.dropLast() {
            if killed.contains(run.server) {
                redeliveredAfterKill += 1
            } else if outage?.contains(run.finished) == true {
                redeliveredAfterOutage += 1
            } else {
                fail(orderNo, "handled again although server \(run.server), which ran it first, was not killed "
                     + "and the database was up")
            }
        }
        if zip(handled, handled.dropFirst()).contains(where: { $0.attempt >= $1.attempt }) {
            fail(orderNo, "attempt numbers not increasing: \(handled.map(\.attempt))")
        }
        if last.attempt != event.attempts {
            fail(orderNo, "the completed run was attempt \(last.attempt) but the store counts \(event.attempts)")
        }
    }

    /// A problem with the run as a whole rather than with one callback.
    mutating func add(_ problem: String) { violations.append(problem) }
    mutating func add(contentsOf problems: [String]) { violations += problems }

    private mutating func fail(_ orderNo: String, _ message: String) {
        violations.append("\(orderNo): \(message)")
    }
}

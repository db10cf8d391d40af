import Foundation

/// One run of the drill's handler, as the handler itself wrote it down
/// outside the server: which server process ran it, for which order, as
/// which delivery attempt.
struct HandlerRun: Sendable {
    let serverPID: Int32
    let orderNo: String
    let attempt: Int

    /// Lines `PID EVENT-JSON`, appended by the exec handler.
    static func parse(log: String) throws -> [HandlerRun] {
        try log.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let pid = Int32(parts[0]),
                  let object = try JSONSerialization.jsonObject(with: Data(parts[1].utf8)) as? [String: Any],
                  let orderNo = object["order_no"] as? String, let attempt = object["attempt"] as? Int
            else { throw DrillError("unreadable handler log line: \(line.prefix(200))") }
            return HandlerRun(serverPID: pid, orderNo: orderNo, attempt: attempt)
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
/// handler completed; a handler ran more than once only because the server
/// running it was killed before it could record the completion; nothing
/// forged is answered `200`, stored or handled.
struct Verdict {
    private(set) var violations: [String] = []
    private(set) var redelivered = 0
    private(set) var simultaneousPairs = 0

    init(corpus: DrillCorpus, ledger: [CallbackLedger], events: [StoredEvent], runs: [HandlerRun], killed: Set<Int32>) {
        let eventsByOrder = Dictionary(grouping: events, by: \.orderNo)
        let runsByOrder = Dictionary(grouping: runs, by: \.orderNo)
        let known = Set(corpus.callbacks.map(\.orderNo))

        for (callback, entry) in zip(corpus.callbacks, ledger) {
            let stored = eventsByOrder[callback.orderNo] ?? []
            let handled = runsByOrder[callback.orderNo] ?? []
            if callback.genuine {
                checkGenuine(callback.orderNo, entry, stored, handled, killed)
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
        _ orderNo: String, _ entry: CallbackLedger, _ stored: [StoredEvent], _ handled: [HandlerRun], _ killed: Set<Int32>
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
        if handled.count > 1 { redelivered += 1 }
        // Every run but the one whose completion was recorded must have been
        // cut short by a kill of the server running it.
        for run in handled.dropLast() where !killed.contains(run.serverPID) {
            fail(orderNo, "handled again although server \(run.serverPID), which ran it first, was not killed")
        }
        if Set(handled.map(\.serverPID)).count != handled.count {
            fail(orderNo, "one server process ran its handler \(handled.count) times")
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

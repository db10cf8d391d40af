import Durations
import Foundation
import Locking
import TrustPayWebhooksTesting

/// What happened to one callback's requests.
struct CallbackLedger: Sendable {
    var requests = 0
    /// Requests that got no answer: refused, reset, closed, timed out.
    var unanswered = 0
    var statuses: [Int: Int] = [:]
    var acknowledged: Bool { statuses[200, default: 0] > 0 }
    /// Answered `200` by more than one replica for one simultaneous send.
    var simultaneousPairsAcknowledged = 0
}

/// Sends the corpus's schedule from several threads at a steady rate, each
/// thread with its own keep-alive connection to every replica, the way a
/// provider behind a load balancer would: a genuine callback that is not
/// answered `200` is sent again later, until it is.
final class LoadGenerator: Sendable {
    let corpus: DrillCorpus
    private let state: Locked<State>
    /// Sends per second over all threads, retries included.
    let rate: Int
    let threads: Int
    /// A genuine callback is given up on after this many requests.
    let maxRequests = 400

    private struct State {
        var next = 0
        var retries: [(due: ContinuousClock.Instant, send: DrillCorpus.Send)] = []
        var inFlight = 0
        var tickets = 0
        var ledger: [CallbackLedger]
        var statusCounts: [Int: Int] = [:]
        var unanswered = 0
        var finished = false
    }

    init(corpus: DrillCorpus, rate: Int, threads: Int) {
        self.corpus = corpus
        self.rate = max(1, rate)
        self.threads = max(1, threads)
        state = Locked(State(ledger: Array(repeating: CallbackLedger(), count: corpus.callbacks.count)))
    }

    var ledger: [CallbackLedger] { state.withLock { $0.ledger } }
    /// Answers so far by status, and the count of requests left unanswered.
    var counts: (statuses: [Int: Int], unanswered: Int) { state.withLock { ($0.statusCounts, $0.unanswered) } }
    var progress: (sent: Int, scheduled: Int) { state.withLock { ($0.next, corpus.schedule.count) } }
    var isFinished: Bool { state.withLock { $0.finished } }

    /// Blocks until every scheduled send is answered or given up on.
    func run(ports: [Int]) {
        let started = ContinuousClock.now
        let group = DispatchGroup()
        for index in 0..<threads {
            group.enter()
            Thread { [self] in
                worker(seed: UInt64(index + 1), ports: ports, started: started)
                group.leave()
            }.start()
        }
        group.wait()
        state.withLock { $0.finished = true }
    }

    private func worker(seed: UInt64, ports: [Int], started: ContinuousClock.Instant) {
        var random = SeededGenerator(seed: seed &* 0x51_7CC1_B727_220A)
        let clients = ports.map { LoopbackClient(port: $0) }
        while let send = take() {
            let ticket = state.withLock { state in
                state.tickets += 1
                return state.tickets
            }
            let due = started + .milliseconds(ticket * 1000 / rate)
            if due > ContinuousClock.now { Thread.sleep(forTimeInterval: (due - ContinuousClock.now).seconds) }

            let request = corpus.callbacks[send.callback].request
            var answers: [Int?]
            if send.toEveryReplica && clients.count > 1 {
                // Written to each before any answer is read: as close to
                // "the same instant" as two connections get.
                let written = clients.map { $0.write(request) }
                answers = zip(clients, written).map { $1 ? $0.readStatus() : nil }
            } else {
                answers = [clients[Int(random.next() % UInt64(clients.count))].send(request)]
            }
            record(send, answers: answers)
        }
    }

    /// The next send that is due, waiting for pending retries; nil when all is done.
    private func take() -> DrillCorpus.Send? {
        while true {
            let next: DrillCorpus.Send?? = state.withLock { state in
                let now = ContinuousClock.now
                if let index = state.retries.firstIndex(where: { $0.due <= now }) {
                    state.inFlight += 1
                    return state.retries.remove(at: index).send
                }
                if state.next < corpus.schedule.count {
                    state.next += 1
                    state.inFlight += 1
                    return corpus.schedule[state.next - 1]
                }
                return state.retries.isEmpty && state.inFlight == 0 ? .some(nil) : nil
            }
            if let next { return next }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    private func record(_ send: DrillCorpus.Send, answers: [Int?]) {
        let genuine = corpus.callbacks[send.callback].genuine
        state.withLock { state in
            state.inFlight -= 1
            var entry = state.ledger[send.callback]
            for answer in answers {
                entry.requests += 1
                if let answer {
                    entry.statuses[answer, default: 0] += 1
                    state.statusCounts[answer, default: 0] += 1
                } else {
                    entry.unanswered += 1
                    state.unanswered += 1
                }
            }
            if answers.count > 1 && answers.allSatisfy({ $0 == 200 }) { entry.simultaneousPairsAcknowledged += 1 }
            state.ledger[send.callback] = entry
            // TrustPay sends again whatever was not acknowledged; a forged
            // callback is sent again only until it gets any answer.
            let answered = genuine ? answers.contains(200) : answers.contains { $0 != nil }
            // A genuine callback refused outright (4xx but for a timeout or the
            // rate limit) is a finding, not something to retry into a 200.
            let rejectedGenuine = genuine && answers.contains { answer in
                answer.map { (400..<500).contains($0) && $0 != 408 && $0 != 429 } ?? false
            }
            if !answered && !rejectedGenuine && entry.requests < maxRequests {
                let retry = DrillCorpus.Send(callback: send.callback, toEveryReplica: false)
                state.retries.append((ContinuousClock.now + .milliseconds(100), retry))
            }
        }
    }
}

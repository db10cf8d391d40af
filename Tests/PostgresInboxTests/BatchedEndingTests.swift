import Foundation
import Inbox
import InboxTesting
import PostgresInbox
import Testing
import TestSupport
import TrustPayWebhooksTesting

extension PostgreSQLTests {
    /// Attempt endings written in batches (`AttemptEndings`) on a real
    /// database: many at once, as the dispatcher's workers end them.
    @Suite struct BatchedEndingTests {
        /// Ends one attempt of each of 96 events at once (completed, failed
        /// or dead letter; a quarter of them taken over by another owner,
        /// who completes them at the same time; some with a full history):
        /// each caller gets its own answer and each event its own history.
        ///
        /// Made to fail by labelling the history as a single ending did
        /// (`EXISTS (SELECT 1 FROM finished)` instead of this event's id in
        /// it): lost leases in a batch with a finished event were kept as
        /// `handled`/`failed`; by leaving the trim out: the full histories
        /// kept 51 attempts; and by letting two endings of one event into
        /// a batch: lost leases were answered `true`.
        @Test func concurrentEndingsGetTheirOwnAnswersAndHistories() async throws {
            try await withInbox(poolSize: 4) { inbox in
                let count = 96
                var recorded: [String] = []
                for index in 0..<count {
                    let event = try await inbox.record(
                        newEvent("BATCH-\(index)"), lease: .always(Lease(owner: "w", duration: .seconds(30))), now: t0
                    ).event
                    recorded.append(event.id)
                }
                let ids = recorded
                let takenOver = Set(stride(from: 1, to: count, by: 4))
                for index in takenOver {
                    let claimed = try await inbox.claim(id: ids[index], owner: "x", leaseDuration: .seconds(30), now: at(60))
                    #expect(claimed != nil)
                }
                // Full histories: attempts ended by nobody's lease (lease-lost, no state change).
                let fullHistory = Set(stride(from: 0, to: count, by: 6))
                let old = HandlerAttempt(number: 7, startedAt: t0, endedAt: t0, outcome: .timedOut)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in fullHistory {
                        group.addTask {
                            for _ in 0..<EventHistory.attemptsKept {
                                let ended = try await inbox.complete(id: ids[index], owner: "nobody", attempt: old)
                                #expect(!ended)
                            }
                        }
                    }
                    try await group.waitForAll()
                }

                let ownAttempt = HandlerAttempt(number: 1, startedAt: at(1), endedAt: at(10), outcome: .handled)
                let successor = HandlerAttempt(number: 2, startedAt: at(60), endedAt: at(61), outcome: .handled)
                @Sendable func failed(_ index: Int, _ error: String) -> HandlerAttempt {
                    HandlerAttempt(number: 1, startedAt: at(1), endedAt: at(10), outcome: .failed, error: "\(error)-\(index)")
                }
                let answers = try await withThrowingTaskGroup(of: (Int, String, Bool).self) { group in
                    for index in 0..<count {
                        let id = ids[index]
                        group.addTask {
                            let answer =
                                switch index % 3 {
                                case 0: try await inbox.complete(id: id, owner: "w", attempt: ownAttempt)
                                case 1: try await inbox.fail(id: id, owner: "w", attempt: failed(index, "boom"), retryAt: at(120))
                                default: try await inbox.deadLetter(id: id, owner: "w", attempt: failed(index, "dead"))
                                }
                            return (index, "w", answer)
                        }
                        if takenOver.contains(index) {
                            group.addTask { (index, "x", try await inbox.complete(id: id, owner: "x", attempt: successor)) }
                        }
                    }
                    var answers: [String: Bool] = [:]
                    for try await (index, owner, answer) in group { answers["\(owner)\(index)"] = answer }
                    return answers
                }

                for index in 0..<count {
                    let lost = takenOver.contains(index)
                    #expect(answers["w\(index)"] == !lost, "event \(index)")
                    if lost { #expect(answers["x\(index)"] == true, "event \(index)") }
                    let event = try #require(try await inbox.event(id: ids[index]))
                    let mine: HandlerAttempt =
                        switch index % 3 {
                        case 0: ownAttempt
                        case 1: failed(index, "boom")
                        default: failed(index, "dead")
                        }
                    var expectedState: EventState
                    var expectedError: String?
                    switch (lost, index % 3) {
                    case (true, _): expectedState = .completed(at: at(61))
                    case (false, 0): expectedState = .completed(at: at(10))
                    case (false, 1): expectedState = .waitingRetry(nextAttemptAt: at(120))
                    default: expectedState = .dead(at: at(10))
                    }
                    if !lost { expectedError = mine.error }
                    #expect(event.state == expectedState, "event \(index)")
                    #expect(event.lastError == expectedError, "event \(index)")

                    var latest = [mine]
                    if lost {
                        latest[0].outcome = .leaseLost
                        latest.append(successor)
                    }
                    let history = try await inbox.history(id: ids[index]).attempts
                    let expectedCount = fullHistory.contains(index) ? EventHistory.attemptsKept : latest.count
                    #expect(history.count == expectedCount, "event \(index)")
                    let newest = history.suffix(latest.count)
                    #expect(Set(newest.map(\.description)) == Set(latest.map(\.description)), "event \(index)")
                    #expect(history.dropLast(latest.count).allSatisfy { $0.number == old.number && $0.outcome == .leaseLost }, "event \(index)")
                }
            }
        }
    }
}

extension OutageTests {
    /// Made to fail by answering `false` to every caller of a failed batch
    /// (in `AttemptEndings.write`): the completions made while the database
    /// was stopped were reported as lost leases instead of failures.
    @Test func aBatchThatFailsFailsEveryCallerInItAndCommitsNothing() async throws {
        try await Self.withOwnServer { server, url in
            let inbox = try await untilAvailable {
                try await PostgresInbox.connect(url: url, poolSize: 2, operationTimeout: Self.timeout, logger: testLogger)
            }
            try await using(inbox) {
                var recorded: [String] = []
                for index in 0..<24 {
                    let event = try await untilAvailable {
                        try await inbox.record(newEvent("DOWN-\(index)"), lease: .always(Lease(owner: "w", duration: .seconds(30))), now: t0)
                    }.event
                    recorded.append(event.id)
                }
                let ids = recorded
                let attempt = HandlerAttempt(number: 1, startedAt: t0, endedAt: at(1), outcome: .handled)

                try await server.stopServer()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in ids {
                        group.addTask {
                            do {
                                let answer = try await inbox.complete(id: id, owner: "w", attempt: attempt)
                                Issue.record("answered \(answer) while the database was down")
                            } catch let error as StoreError {
                                guard case .unavailable = error else { Issue.record("unexpected \(error)"); return }
                            }
                        }
                    }
                    try await group.waitForAll()
                }

                try await server.startServer()
                // Nothing was committed: the leases are still held, and the
                // same completions succeed once the database is back.
                #expect(try await untilAvailable { try await inbox.complete(id: ids[0], owner: "w", attempt: attempt) })
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for id in ids.dropFirst() {
                        group.addTask { try await untilAvailable { try await inbox.complete(id: id, owner: "w", attempt: attempt) } }
                    }
                    for try await answer in group { #expect(answer) }
                }
                for id in ids {
                    #expect(try await inbox.history(id: id).attempts.map(\.outcome) == [.handled])
                }
            }
        }
    }
}

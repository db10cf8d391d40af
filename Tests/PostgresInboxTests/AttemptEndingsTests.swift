import Foundation
import Inbox
import Locking
import PostgresInbox
import Testing
import TestSupport
import TrustPayWebhooksTesting

/// The group commit of attempt endings, with a stand-in for the statement:
/// which endings share a batch, who gets which answer, and that no caller
/// is left waiting when a batch fails or the inbox shuts down.
@Suite(.timeLimit(.minutes(2)))
struct AttemptEndingsTests {
    /// Stands in for the batch statement: records each batch, can hold the
    /// writer inside a batch until opened, and answers with `answer`.
    final class Writes: Sendable {
        private let batches = Locked<[[String]]>([])
        private let gate: AsyncStream<Void>
        private let opener: AsyncStream<Void>.Continuation
        private let holding: Locked<Bool>
        let answer: @Sendable ([AttemptEnding]) -> Result<Set<String>, StoreError>

        init(holdingFirst: Bool, answer: @escaping @Sendable ([AttemptEnding]) -> Result<Set<String>, StoreError>) {
            (gate, opener) = AsyncStream.makeStream()
            holding = Locked(holdingFirst)
            self.answer = answer
        }

        var written: [[String]] { batches.withLock { $0 } }
        var isHolding: Bool { batches.withLock { $0.count } == 1 && holding.withLock { $0 } }
        func open() {
            holding.withLock { $0 = false }
            opener.yield()
        }

        func write(_ batch: [AttemptEnding]) async -> Result<Set<String>, StoreError> {
            let first = batches.withLock { batches in
                batches.append(batch.map(\.id))
                return batches.count == 1
            }
            if first, holding.withLock({ $0 }) {
                for await _ in gate { break }
            }
            return answer(batch)
        }
    }

    static func ending(_ id: String, owner: String = "w") -> AttemptEnding {
        AttemptEnding(
            id: id, owner: owner, state: "completed", stateAt: t0,
            attempt: HandlerAttempt(number: 1, startedAt: t0, endedAt: t0, outcome: .handled))
    }

    /// Runs `endings` with `writes` in a child task for `body`, then stops it (as a shutdown does).
    static func running<Result: Sendable>(
        _ endings: AttemptEndings, _ writes: Writes, _ body: () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await endings.run { batch, _ in await writes.write(batch) } }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Made to fail by taking one ending per batch in `take` (each ending was
    /// then a batch of its own: 11 batches), and by answering every caller
    /// with the first one's answer (the odd ones got `true` too).
    @Test func endingsArrivingDuringABatchShareTheNextAndGetTheirOwnAnswers() async throws {
        let writes = Writes(holdingFirst: true) { batch in
            .success(Set(batch.map(\.id).filter { Int($0.dropFirst(2))?.isMultiple(of: 2) ?? false }))
        }
        let endings = AttemptEndings(timeout: .seconds(60))
        try await Self.running(endings, writes) {
            try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                group.addTask { ("E-first", try await endings.end(Self.ending("E-first"))) }
                try await eventually("the first batch to be held") { writes.isHolding }
                for index in 0..<10 {
                    group.addTask { ("E-\(index)", try await endings.end(Self.ending("E-\(index)"))) }
                }
                try await eventually("ten endings to wait") { endings.waiting == 10 }
                writes.open()
                var answers: [String: Bool] = [:]
                for try await (id, answer) in group { answers[id] = answer }
                #expect(answers == Dictionary(uniqueKeysWithValues: (0..<10).map { ("E-\($0)", $0 % 2 == 0) })
                    .merging(["E-first": false]) { $1 })
            }
        }
        #expect(writes.written.count == 2)
        #expect(writes.written.first == ["E-first"])
        #expect(Set(writes.written.last ?? []) == Set((0..<10).map { "E-\($0)" }))
    }

    /// Made to fail by dropping the one-per-event check in `take`: the two
    /// endings of E-1 went in one batch.
    @Test func aBatchHoldsAtMostItsLimitAndOneEndingPerEvent() async throws {
        let writes = Writes(holdingFirst: true) { batch in .success(Set(batch.map(\.id))) }
        let endings = AttemptEndings(batchLimit: 3, timeout: .seconds(60))
        try await Self.running(endings, writes) {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await endings.end(Self.ending("E-first")) }
                try await eventually("the first batch to be held") { writes.isHolding }
                for (index, id) in ["E-1", "E-1", "E-2", "E-3", "E-4"].enumerated() {
                    group.addTask { try await endings.end(Self.ending(id, owner: "w\(index)")) }
                    try await eventually("ending \(index) to wait") { endings.waiting == index + 1 }
                }
                writes.open()
                for try await answer in group { #expect(answer) }
            }
        }
        #expect(writes.written == [["E-first"], ["E-1", "E-2", "E-3"], ["E-1", "E-4"]])
    }

    /// Made to fail by answering `false` instead of the error when a batch
    /// fails: the callers were told their lease was lost.
    @Test func aFailingBatchFailsEveryCallerInItAndTheNextBatchIsWritten() async throws {
        let failing = Locked(true)
        let writes = Writes(holdingFirst: true) { batch in
            failing.withLock { $0 } ? .failure(.unavailable("the database stopped")) : .success(Set(batch.map(\.id)))
        }
        let endings = AttemptEndings(timeout: .seconds(60))
        try await Self.running(endings, writes) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await #expect(throws: StoreError.self) { try await endings.end(Self.ending("E-first")) }
                }
                try await eventually("the first batch to be held") { writes.isHolding }
                for index in 0..<5 {
                    group.addTask {
                        let error = await #expect(throws: StoreError.self) { try await endings.end(Self.ending("E-\(index)")) }
                        #expect("\(error.map { "\($0)" } ?? "")".contains("the database stopped"))
                    }
                }
                try await eventually("five endings to wait") { endings.waiting == 5 }
                writes.open()
                try await group.waitForAll()
            }
            failing.withLock { $0 = false }
            #expect(try await endings.end(Self.ending("E-after")))
        }
        #expect(writes.written.count == 3)
    }

    /// Made to fail by dropping `close` when `run` ends: the waiting callers
    /// were never answered (the test hit its time limit).
    @Test func stoppingFailsTheWaitingCallersAndRefusesNewOnes() async throws {
        let writes = Writes(holdingFirst: true) { _ in .failure(.unavailable("cancelled")) }
        let endings = AttemptEndings(timeout: .seconds(60))
        try await withThrowingTaskGroup(of: Void.self) { callers in
            try await withThrowingTaskGroup(of: Void.self) { writer in
                writer.addTask { await endings.run { batch, _ in await writes.write(batch) } }
                callers.addTask {
                    await #expect(throws: StoreError.self) { try await endings.end(Self.ending("E-first")) }
                }
                try await eventually("the first batch to be held") { writes.isHolding }
                for index in 0..<5 {
                    callers.addTask {
                        let error = await #expect(throws: StoreError.self) { try await endings.end(Self.ending("E-\(index)")) }
                        #expect("\(error.map { "\($0)" } ?? "")".contains("shut down"))
                    }
                }
                try await eventually("five endings to wait") { endings.waiting == 5 }
                // As a shutdown does: the held batch gives up (like a cancelled statement).
                writer.cancelAll()
                try await writer.waitForAll()
            }
            try await callers.waitForAll()
        }
        let refused = await #expect(throws: StoreError.self) { try await endings.end(Self.ending("E-late")) }
        #expect("\(refused.map { "\($0)" } ?? "")".contains("shut down"))
    }
}

import Dispatch
import Foundation
import Synchronization
import Webhooks
@testable import SQLiteInbox
@testable import SQLiteStore

/// A fresh directory for one test's databases, removed when released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-inbox-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A database file path inside the directory.
    func database(_ name: String = "inbox.sqlite") -> String { path + "/" + name }
}

/// Opens an inbox in a fresh directory, runs `body` with it, and closes it
/// afterwards, even when `body` throws.
func withInbox<T: Sendable>(
    deletionBatch: Int? = nil, _ body: (SQLiteInbox, TemporaryDirectory) async throws -> T
) async throws -> T {
    let directory = try TemporaryDirectory()
    let inbox: SQLiteInbox
    if let deletionBatch {
        let database = try await SQLiteDatabase(path: directory.database(), migrations: InboxSchema.migrations)
        inbox = SQLiteInbox(database: database, deletionBatch: deletionBatch)
    } else {
        inbox = try await SQLiteInbox.open(path: directory.database())
    }
    do {
        let result = try await body(inbox, directory)
        await inbox.close()
        return result
    } catch {
        await inbox.close()
        throw error
    }
}

let t0 = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))

func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

/// A payment event whose key is its order and status.
func newEvent(
    _ order: String = "O-1", status: Int = 5, rank: Int? = 1, hash: String = "h1", bodyBytes: Int = 16,
    at offset: Double = 0
) -> NewInboxEvent {
    NewInboxEvent(
        key: IdempotencyKey(rawValue: "[\"\(order)\",\(status)]"), contentHash: hash, kind: .payment, merchantID: 1,
        orderType: 0, orderNo: order, status: status, order: OrderReference(rawValue: order), statusRank: rank,
        rawBody: Array(repeating: UInt8(ascii: "x"), count: bodyBytes), receivedAt: at(offset))
}

extension RecordOutcome {
    var isRecorded: Bool {
        if case .recorded = self { return true }
        return false
    }
}

/// Holds the inbox's writer thread inside a write until opened, so that
/// the writes queued meanwhile are taken as one batch.
final class WriterGate: Sendable {
    private let holding = Atomic(false)
    private let release = DispatchSemaphore(value: 0)

    /// Queues a write that blocks the writer thread (never a thread of the
    /// cooperative pool), and returns once the writer is inside it.
    func close(_ inbox: SQLiteInbox) async throws -> Task<Void, any Error> {
        let blocker = Task {
            try await inbox.database.write { _ in
                self.holding.store(true, ordering: .sequentiallyConsistent)
                self.release.wait()
            }
        }
        try await waitUntil { self.holding.load(ordering: .sequentiallyConsistent) }
        return blocker
    }

    func open() { release.signal() }
}

struct TimedOut: Error {}

/// Sleeps (without blocking a thread) until `condition` holds; throws after `limit`.
func waitUntil(_ limit: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut() }
        try await Task.sleep(for: .milliseconds(5))
    }
}

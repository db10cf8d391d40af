import Foundation
import Synchronization
import SQLiteStore

/// A fresh directory for one test's databases, removed when released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sqlite-store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A database file path inside the directory.
    func database(_ name: String = "test.sqlite") -> String { path + "/" + name }
}

/// Runs blocking `body` on a thread of its own, so the two threads of
/// Swift's cooperative pool stay free for the tasks under test.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Sleeps (without blocking a thread) until `condition` holds or `limit` passes.
func waitUntil(_ limit: Duration = .seconds(10), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: .milliseconds(5))
    }
    return true
}

/// Every value of the first column of `sql`'s rows, as integers.
func integers(_ db: SQLiteConnection, _ sql: String) throws -> [Int64] {
    try db.query(sql).compactMap { $0[0].int64 }
}

let itemsTable = Migration(version: 1, sql: """
    CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, body BLOB)
    """)

/// Holds the writer thread inside a write until opened, so requests queue up
/// behind it and are taken as one batch.
final class WriterGate: Sendable {
    private let entered = Atomic(false)
    private let release = DispatchSemaphore(value: 0)

    /// Called inside a write closure, on the writer thread.
    func hold() {
        entered.store(true, ordering: .sequentiallyConsistent)
        release.wait()
    }

    var isHolding: Bool { entered.load(ordering: .sequentiallyConsistent) }

    func open() { release.signal() }

    /// Queues a write that holds the writer, and returns once it does.
    func close(_ writer: GroupCommitWriter) async throws -> Task<Void, any Error> {
        let blocker = Task { try await writer.write { _ in self.hold() } }
        let arrived = try await waitUntil { self.isHolding }
        guard arrived else { throw GateError.writerNeverArrived }
        return blocker
    }

    enum GateError: Error { case writerNeverArrived }
}

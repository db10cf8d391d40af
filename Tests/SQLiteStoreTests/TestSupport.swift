import Foundation
import SQLiteStore

/// Runs blocking `body` on a thread of its own, so the two threads of
/// Swift's cooperative pool stay free for the tasks under test.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Every value of the first column of `sql`'s rows, as integers.
func integers(_ db: SQLiteConnection, _ sql: String) throws -> [Int64] {
    try db.query(sql).compactMap { $0[0].int64 }
}

let itemsTable = Migration(version: 1, sql: """
    CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, body BLOB)
    """)

import Foundation
import Inbox
import TestSupport
import Webhooks
@testable import SQLiteInbox
@testable import SQLiteStore

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

/// A raw body of `count` bytes.
func bytes(_ count: Int) -> [UInt8] { Array(repeating: UInt8(ascii: "x"), count: count) }

extension RecordOutcome {
    var isRecorded: Bool {
        if case .recorded = self { return true }
        return false
    }
}

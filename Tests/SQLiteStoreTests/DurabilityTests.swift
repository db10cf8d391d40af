import ChildProcesses
import Foundation
import Testing
import TestSupport
import SQLiteStore

/// Durable, as far as it can be proven without pulling the power: every
/// connection of a store runs WAL with `synchronous = FULL`, and the write
/// path does issue an fsync for each commit before acknowledging it.
@Suite struct DurabilityTests {
    /// Made to fail by defaulting `SQLiteConfiguration.synchronous` to
    /// `.normal` (the writer's and the readers' connections then answer 1).
    @Test func everyConnectionOfAStoreRunsWALWithFullSynchronousCommits() async throws {
        let directory = try TemporaryDirectory()
        let database = try await SQLiteDatabase(path: directory.database(), migrations: [itemsTable])
        let writer = try await database.write { db in try Self.settings(db) }
        let reader = try await database.read { db in try Self.settings(db) }
        await database.close()
        #expect(writer == Settings(journalMode: "wal", synchronous: 2), "the writer's connection")
        #expect(reader == Settings(journalMode: "wal", synchronous: 2), "a reader's connection")

        let normal = try await SQLiteDatabase(
            path: directory.database("normal.sqlite"), configuration: SQLiteConfiguration(synchronous: .normal))
        #expect(try await normal.write { db in try Self.settings(db) } == Settings(journalMode: "wal", synchronous: 1),
                "a configured mode reaches the connections")
        await normal.close()
    }

    /// strace counts the probe's fsync and fdatasync calls while it writes
    /// with one writer, so every write is a batch of its own: at least one
    /// sync per acknowledged write. With `synchronous = NORMAL` SQLite syncs
    /// only at checkpoints, and with `OFF` never.
    ///
    /// Made to fail by defaulting `SQLiteConfiguration.synchronous` to
    /// `.normal`: 14 syncs for 2,038 acknowledged writes.
    @Test(.enabled(if: Strace.path != nil || Strace.isRequired, "needs strace (apt-get install strace)"))
    func eachAcknowledgedWriteWasFsyncedFirst() async throws {
        let strace = try #require(Strace.path, "strace is not installed; .ci/run installs it")
        let probe = try builtExecutable("sqlite-crash-probe")
        let directory = try TemporaryDirectory()
        let summary = directory.path + "/strace.txt"
        let run = try await ChildProcess.run(
            [strace, "-f", "-c", "-o", summary, "-e", "trace=fsync,fdatasync", probe, directory.database(), "1", "2"],
            timeout: .seconds(60))
        #expect(run.status == 0, "\(run.stderr)")
        let acknowledged = run.stdout.split(separator: "\n").count
        #expect(acknowledged >= 10, "too few writes to tell: \(acknowledged)")
        let syncs = try Strace.calls(summary: String(contentsOfFile: summary, encoding: .utf8), of: ["fsync", "fdatasync"])
        #expect(syncs >= acknowledged, "\(syncs) fsync/fdatasync calls for \(acknowledged) acknowledged writes")
    }

    struct Settings: Equatable {
        var journalMode: String?
        var synchronous: Int?
    }

    static func settings(_ db: SQLiteConnection) throws -> Settings {
        Settings(journalMode: try db.query("PRAGMA journal_mode")[0][0].string,
                 synchronous: try db.query("PRAGMA synchronous")[0][0].int)
    }
}

enum Strace {
    static let path: String? = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Under CI (`.ci/run` installs strace) a missing strace fails the test.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// The calls of `syscalls` in an `strace -c` summary.
    static func calls(summary: String, of syscalls: Set<String>) -> Int {
        // "% time  seconds  usecs/call  calls  errors  syscall"; errors may be blank.
        summary.split(separator: "\n").reduce(0) { total, line in
            let columns = line.split(separator: " ")
            guard columns.count >= 5, let name = columns.last, syscalls.contains(String(name)),
                  let calls = Int(columns[3]) else { return total }
            return total + calls
        }
    }
}

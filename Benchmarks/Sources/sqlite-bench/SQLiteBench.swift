import ArgumentParser
import Glibc
import SQLiteStore

/// Acknowledged writes per second through `GroupCommitWriter` with
/// `synchronous = FULL`, with group commit and without (one transaction,
/// so one fsync, per write), as a markdown table. `scripts/bench-sqlite`
/// runs it next to the disk's raw fsync rate.
///
///     sqlite-bench [--directory data/bench-sqlite] [--writers 64] [--seconds 5]
///                  [--fsync-rate N] [--fdatasync-rate N]
///
/// The two rates are `scripts/fsync-rate`'s, shown as the raw disk's rows.
@main
struct SQLiteBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sqlite-bench", abstract: "Acknowledged SQLite writes per second, with and without group commit.")

    @Option(help: "Where the databases are made (deleted after).") var directory = "data/bench-sqlite"
    @Option(help: "Concurrent writers.") var writers = 64
    @Option(help: "Seconds per mode.") var seconds = 5
    @Option(help: "scripts/fsync-rate's raw fsync rate, shown beside.") var fsyncRate: Double?
    @Option(help: "scripts/fsync-rate's raw fdatasync rate, shown beside.") var fdatasyncRate: Double?

    func validate() throws {
        guard writers > 0, seconds > 0 else { throw ValidationError("--writers and --seconds must be positive") }
    }

    struct Result {
        var mode: String
        var acknowledged: Int
        var elapsed: Duration
        var statistics: WriterStatistics

        var seconds: Double { Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
        var writesPerSecond: Double { Double(acknowledged) / seconds }
        var commitsPerSecond: Double { Double(statistics.commits) / seconds }
        var writesPerCommit: Double { Double(statistics.writes) / Double(max(1, statistics.commits)) }
    }

    static let schema = [Migration(version: 1, sql: """
        CREATE TABLE inbox (key TEXT PRIMARY KEY, body BLOB NOT NULL, received_at INTEGER NOT NULL)
        """)]

    func run() async throws {
        let grouped = try await Self.measure("group commit", maxBatch: GroupCommitWriter.defaultMaxBatch, self)
        let single = try await Self.measure("one commit per write", maxBatch: 1, self)
        print(Self.table([grouped, single], self))
    }

    static func measure(_ mode: String, maxBatch: Int, _ options: SQLiteBench) async throws -> Result {
        let path = "\(options.directory)/bench-\(getpid())-\(maxBatch).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        let writer = try await GroupCommitWriter(path: path, maxBatch: maxBatch, migrator: SchemaMigrator(schema))
        let body = [UInt8](repeating: 0x7B, count: 600)  // about one callback's JSON
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(options.seconds)
        let acknowledged = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<options.writers {
                group.addTask {
                    var count = 0
                    while clock.now < deadline {
                        let key = "order-\(client)-\(count)"
                        try await writer.write { db in
                            try db.execute("INSERT INTO inbox (key, body, received_at) VALUES (?, ?, ?)",
                                           .text(key), .blob(body), .integer(Int64(time(nil))))
                        }
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        let statistics = writer.statistics
        await writer.close()
        return Result(mode: mode, acknowledged: acknowledged, elapsed: elapsed, statistics: statistics)
    }

    static func table(_ results: [Result], _ options: SQLiteBench) -> String {
        var lines = [
            "SQLite, WAL, synchronous=FULL; \(options.writers) concurrent writers, \(options.seconds) s each; "
                + "one INSERT of a 600-byte row per write; in \(options.directory)",
            "",
            "| mode | acknowledged writes/s | commits (fsyncs)/s | writes per commit | largest batch |",
            "|---|---:|---:|---:|---:|",
        ]
        for result in results {
            lines.append("| \(result.mode) | \(format(result.writesPerSecond)) | \(format(result.commitsPerSecond)) | "
                         + "\(format(result.writesPerCommit, oneDecimal: true)) | \(result.statistics.largestBatch) |")
        }
        if let rate = options.fsyncRate {
            lines.append("| raw disk: 4 KiB append + fsync | | \(format(rate)) | | |")
        }
        if let rate = options.fdatasyncRate {
            lines.append("| raw disk: 4 KiB rewrite + fdatasync | | \(format(rate)) | | |")
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double, oneDecimal: Bool = false) -> String {
        oneDecimal ? String((value * 10).rounded() / 10) : String(Int(value.rounded()))
    }
}

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
struct SQLiteBench {
    struct Options {
        var directory = "data/bench-sqlite"
        var writers = 64
        var seconds = 5
        var fsyncRate: Double?
        var fdatasyncRate: Double?
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

    static func main() async {
        let options = parse(Array(CommandLine.arguments.dropFirst()))
        do {
            let grouped = try await measure("group commit", maxBatch: GroupCommitWriter.defaultMaxBatch, options)
            let single = try await measure("one commit per write", maxBatch: 1, options)
            print(table([grouped, single], options))
        } catch {
            print("sqlite-bench: \(error)")
            exit(1)
        }
    }

    static func measure(_ mode: String, maxBatch: Int, _ options: Options) async throws -> Result {
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

    static func table(_ results: [Result], _ options: Options) -> String {
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

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var remaining = arguments[...]
        while let flag = remaining.popFirst() {
            guard let value = remaining.popFirst() else { usage("\(flag) needs a value") }
            switch flag {
            case "--directory": options.directory = value
            case "--writers": options.writers = number(value, for: flag)
            case "--seconds": options.seconds = number(value, for: flag)
            case "--fsync-rate": options.fsyncRate = Double(number(value, for: flag))
            case "--fdatasync-rate": options.fdatasyncRate = Double(number(value, for: flag))
            default: usage("unknown option \(flag)")
            }
        }
        return options
    }

    static func number(_ value: String, for flag: String) -> Int {
        guard let number = Int(value), number > 0 else { usage("\(flag) takes a positive whole number") }
        return number
    }

    static func usage(_ problem: String) -> Never {
        print("sqlite-bench: \(problem)\n"
              + "usage: sqlite-bench [--directory DIR] [--writers N] [--seconds S] [--fsync-rate N] [--fdatasync-rate N]")
        exit(2)
    }
}

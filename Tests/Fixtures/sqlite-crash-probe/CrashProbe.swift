import Glibc
import SQLiteStore

/// The subject of the crash test: concurrent writers insert rows through a
/// `GroupCommitWriter` and print each id once its write has returned, i.e.
/// once it is acknowledged. The test kills this process with SIGKILL at some
/// point and checks that every printed id is in the database.
///
///     sqlite-crash-probe DATABASE [WRITERS=16] [SECONDS=30]
///
/// Stops by itself after SECONDS, so a test that dies leaves no orphan behind.
@main
struct CrashProbe {
    static let schema = [
        Migration(version: 1, sql: "CREATE TABLE acknowledged (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)"),
    ]

    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        guard let path = arguments.first else {
            fail("usage: sqlite-crash-probe DATABASE [WRITERS] [SECONDS]")
        }
        let writers = arguments.dropFirst().first.flatMap { Int($0) } ?? 16
        let seconds = arguments.dropFirst(2).first.flatMap { Int($0) } ?? 30
        let deadline = ContinuousClock.now + .seconds(seconds)
        do {
            let writer = try await GroupCommitWriter(path: path, migrator: SchemaMigrator(schema))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for first in 0..<writers {
                    group.addTask {
                        var id = Int64(first)
                        let payload = [UInt8](repeating: UInt8(first & 0xFF), count: 256)
                        while ContinuousClock.now < deadline {
                            try await writer.write { [id] db in
                                try db.execute("INSERT INTO acknowledged (id, payload) VALUES (?, ?)",
                                               .integer(id), .blob(payload))
                            }
                            acknowledge(id)
                            id += Int64(writers)
                        }
                    }
                }
                try await group.waitForAll()
            }
            await writer.close()
        } catch {
            fail("sqlite-crash-probe: \(error)")
        }
    }

    /// One line per id, in a single write(2) so lines never interleave.
    static func acknowledge(_ id: Int64) {
        let line = Array("\(id)\n".utf8)
        _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    static func fail(_ message: String) -> Never {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        exit(1)
    }
}

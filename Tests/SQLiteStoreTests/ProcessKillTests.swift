import ChildProcesses
import Foundation
import Testing
import TestSupport
import SQLiteStore

/// What a process kill can show: a write is acknowledged only once its
/// transaction has committed. Not that the commit is durable: the kernel's
/// page cache outlives a killed process, so `synchronous = OFF` passes this
/// as well as `FULL` (`DurabilityTests` checks the setting and the fsyncs).
@Suite(.timeLimit(.minutes(1)))
struct ProcessKillTests {
    /// `sqlite-crash-probe` writes through a group-commit writer and prints
    /// each id after its write returned; it is killed with SIGKILL
    /// mid-stream, and every id it printed must be in the database.
    ///
    /// Made to fail by committing only every 50th batch, the writes
    /// acknowledged all the same: the ids of the open transaction were lost.
    /// Not caught: printing each id inside the write closure, before its
    /// batch commits; the writer is mostly between batches when the kill lands.
    @Test func everyWriteAcknowledgedBeforeASIGKILLIsInTheDatabase() async throws {
        let probe = try builtExecutable("sqlite-crash-probe")
        let directory = try TemporaryDirectory()
        let path = directory.database("crash.sqlite")
        let run = try await onOwnThread { try Self.killMidStream(probe, arguments: [path, "32", "30"], after: 3_000) }
        #expect(run.killed, "the probe exited by itself: \(run.errors)")
        #expect(run.acknowledged.count >= 3_000, "\(run.errors)")

        let db = try SQLiteConnection(path: path)
        #expect(try db.query("PRAGMA integrity_check")[0][0] == "ok")
        let stored = Set(try integers(db, "SELECT id FROM acknowledged"))
        let lost = run.acknowledged.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "acknowledged but not stored: \(lost.prefix(20))")
    }

    struct ProbeRun: Sendable {
        var acknowledged: [Int64]
        var killed: Bool
        var errors: String
    }

    /// Starts the probe, reads acknowledged ids until there are `count`,
    /// kills it with SIGKILL, and collects what it printed before dying.
    static func killMidStream(_ probe: String, arguments: [String], after count: Int) throws -> ProbeRun {
        let scratch = NSTemporaryDirectory() + "probe-\(UUID().uuidString)"
        defer {
            unlink(scratch + ".out")
            unlink(scratch + ".err")
        }
        // ChildProcess, not Foundation's Process: see ChildProcesses for why.
        let child = try ChildProcess.spawn([probe] + arguments, stdout: scratch + ".out", stderr: scratch + ".err")
        var lines = LineCollector()
        let deadline = Date().addingTimeInterval(60)
        while lines.ids.count < count && Date() < deadline {
            usleep(20_000)
            var fresh = LineCollector()
            fresh.add((try? Data(contentsOf: URL(fileURLWithPath: scratch + ".out"))) ?? Data())
            lines = fresh
            if kill(child.pid, 0) != 0 { break }
        }
        child.signal(SIGKILL)
        let status = child.waitBlocking()
        // Lines printed before the kill are acknowledged too.
        var all = LineCollector()
        all.add((try? Data(contentsOf: URL(fileURLWithPath: scratch + ".out"))) ?? Data())
        let errorText = (try? String(contentsOfFile: scratch + ".err", encoding: .utf8)) ?? ""
        return ProbeRun(acknowledged: all.ids, killed: status == 128 + SIGKILL, errors: errorText)
    }
}

/// Whole lines of ids from chunks of output; a trailing partial line waits
/// for the next chunk.
struct LineCollector {
    private(set) var ids: [Int64] = []
    private var partial: [UInt8] = []

    mutating func add(_ data: Data) {
        partial.append(contentsOf: data)
        guard let lastNewline = partial.lastIndex(of: UInt8(ascii: "\n")) else { return }
        for line in partial[..<lastNewline].split(separator: UInt8(ascii: "\n")) {
            if let id = Int64(String(decoding: line, as: UTF8.self)) { ids.append(id) }
        }
        partial.removeSubrange(...lastNewline)
    }
}

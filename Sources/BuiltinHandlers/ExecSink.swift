import ChildProcesses
import Foundation
import Glibc
import Synchronization
import Locking

/// Runs a command per event with the event JSON on stdin; exit 0 is
/// success. A command that outlives its timeout is killed and counts as a
/// failure. Its output goes to the server's own standard error.
///
/// One event never has two runs at once: an attempt whose handler deadline
/// passed is cancelled, which kills its command's process group, and the
/// event's next run waits until that group is gone (see `RunsInProgress`).
package struct ExecSink: EventSink {
    package let name: String
    private let command: [String]
    private let timeout: Duration
    private let environment: [String: String]
    private let runs = RunsInProgress()

    /// `environment` is the child's whole environment (see `ChildEnvironment`).
    package init(name: String = "exec", command: [String], timeout: Duration,
                environment: [String: String] = ChildEnvironment.make(passing: [], from: [:])) {
        self.name = name
        self.command = command
        self.timeout = timeout
        self.environment = environment
    }

    package func deliver(_ event: EventEnvelope) async throws {
        await runs.begin(event.eventID)
        defer { runs.end(event.eventID) }
        let status = try await CommandRunner.run(command, input: event.json(), timeout: timeout, environment: environment)
        guard status == 0 else {
            throw SinkFailure("\(command[0]) exited with status \(status)")
        }
    }
}

/// Runs a command with stdin from memory and waits for its exit without
/// blocking a Swift concurrency thread (see `ChildProcess` for why not
/// Foundation's `Process`).
package enum CommandRunner {
    /// The exit status. Past `timeout` the child's process group gets
    /// SIGTERM, then SIGKILL 2 s later, and the call throws. If the calling
    /// task is cancelled (a handler deadline passed), the group gets SIGKILL
    /// at once. Either way the call returns only once the child is reaped and
    /// no live process is left in its group, so whatever it held (a lock, a
    /// file) is released. The child writes to this process's standard error
    /// descriptor, and sees only `environment`.
    package static func run(
        _ command: [String], input: [UInt8], timeout: Duration, environment: [String: String]
    ) async throws -> Int32 {
        // A cancelled attempt (its deadline passed between two handlers) starts nothing.
        try Task.checkCancellation()
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                command, input: .bytes(input), output: .standardError, errors: .inherit, environment: environment)
        } catch {
            throw SinkFailure("\(error)")
        }
        let run = RunState()
        // Once the child is reaped its pid (and group id) may be reused:
        // no signal goes out after that.
        let signal: @Sendable (Int32) -> Void = { if !run.reaped.load(ordering: .acquiring) { child.signal($0) } }
        let status = await withTaskCancellationHandler {
            await withTaskGroup(of: Int32?.self) { group in
                group.addTask {
                    let status = await child.wait()
                    run.reaped.store(true, ordering: .releasing)
                    return status
                }
                group.addTask {
                    // The watchdog; cancelled as soon as the child exits.
                    do { try await Task.sleep(for: timeout) } catch { return nil }
                    guard run.ending.compareExchange(expected: Ending.running.rawValue, desired: Ending.timedOut.rawValue,
                                                 ordering: .relaxed).exchanged else { return nil }
                    signal(SIGTERM)
                    do { try await Task.sleep(for: .seconds(2)) } catch { return nil }
                    signal(SIGKILL)
                    return nil
                }
                var status: Int32 = -1
                for await result in group {
                    if let result {
                        status = result
                        group.cancelAll()
                    }
                }
                return status
            }
        } onCancel: {
            guard !run.reaped.load(ordering: .acquiring) else { return }
            run.ending.store(Ending.cancelled.rawValue, ordering: .relaxed)
            signal(SIGKILL)
        }
        let end = Ending(rawValue: run.ending.load(ordering: .relaxed)) ?? .running
        if end != .running {
            // Its descendants may outlive it by a moment, still holding what
            // it held: the run is over only when the whole group is.
            await child.waitForGroupToEnd()
        }
        switch end {
        case .running:
            return status
        case .cancelled:
            throw SinkFailure("\(command[0]) was killed: its attempt ran out of time")
        case .timedOut:
            guard status > 128 else { return status }
            // Which signal ended it tells an operator whether the command
            // honours SIGTERM or had to be killed.
            let signal = status - 128
            let name = signal == SIGTERM ? "SIGTERM" : signal == SIGKILL ? "SIGKILL" : "signal \(signal)"
            throw SinkFailure("\(command[0]) did not finish within \(timeout) and was stopped by \(name)")
        }
    }

    private enum Ending: Int {
        case running, timedOut, cancelled
    }

    /// How a run is ending, and whether its child is reaped, shared by the
    /// waiter, the watchdog and the cancellation handler.
    private final class RunState: Sendable {
        let ending = Atomic<Int>(Ending.running.rawValue)
        let reaped = Atomic<Bool>(false)
    }
}

/// The events whose command is running, so that an event's next run starts
/// only after its previous one ended: waiters queue per event, in order.
final class RunsInProgress: Sendable {
    private let waiting = Locked<[String: [CheckedContinuation<Void, Never>]]>([:])

    /// Returns when no other run of `key` is in progress; the caller then
    /// holds it until `end(key)`.
    func begin(_ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = waiting.withLock { waiting in
                guard waiting[key] != nil else {
                    waiting[key] = []
                    return true
                }
                waiting[key]?.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    /// How many runs of `key` wait for the one in progress (for tests).
    func waiting(for key: String) -> Int { waiting.withLock { $0[key]?.count ?? 0 } }

    /// Hands `key` to the next waiter, if any.
    func end(_ key: String) {
        let next = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard var queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            waiting[key] = queue
            return first
        }
        next?.resume()
    }
}

/// What a command the server runs (an `exec` handler, the risk-control
/// command) finds in its environment: not the server's, which holds
/// `TRUSTPAY_SECRET`, the database URL and other secrets, but a small safe
/// base and the variables its configuration names.
package enum ChildEnvironment {
    /// Passed on when set: where programs are, the home folder, locale, time zone, temporary folder.
    package static let base = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"]
    static let defaultPath = "/usr/local/bin:/usr/bin:/bin"

    /// The base plus each of `names` from `environment`; an entry
    /// `NAME=value` sets `NAME` to `value` instead. `PATH` is always set.
    package static func make(passing names: [String], from environment: [String: String]) -> [String: String] {
        var child: [String: String] = [:]
        for name in base { child[name] = environment[name] }
        if child["PATH"] == nil { child["PATH"] = defaultPath }
        for entry in names {
            if let equals = entry.firstIndex(of: "=") {
                child[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
            } else if let value = environment[entry] {
                child[entry] = value
            }
        }
        return child
    }
}

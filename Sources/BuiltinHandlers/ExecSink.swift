import ChildProcesses
import Foundation
import Glibc
import Synchronization

/// Runs a command per event with the event JSON on stdin; exit 0 is
/// success. A command that outlives its timeout is killed and counts as a
/// failure. Its output goes to the server's stderr.
public struct ExecSink: EventSink {
    public let name: String
    private let command: [String]
    private let timeout: Duration

    public init(name: String = "exec", command: [String], timeout: Duration) {
        self.name = name
        self.command = command
        self.timeout = timeout
    }

    public func deliver(_ event: EventEnvelope) async throws {
        let status = try await CommandRunner.run(command, input: event.json(), timeout: timeout)
        guard status == 0 else {
            throw HandlerFailure("\(command[0]) exited with status \(status)")
        }
    }
}

/// Runs a command with stdin from memory and waits for its exit without
/// blocking a Swift concurrency thread (see `ChildProcess` for why not
/// Foundation's `Process`).
public enum CommandRunner {
    /// The exit status. Past `timeout` the child's process group gets
    /// SIGTERM, then SIGKILL 2 s later, and the call throws.
    public static func run(_ command: [String], input: [UInt8], timeout: Duration) async throws -> Int32 {
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(command, input: .bytes(input), stdoutToStderr: true)
        } catch {
            throw HandlerFailure("\(error)")
        }
        let stopped = Atomic<Bool>(false)
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            stopped.store(true, ordering: .relaxed)
            child.signal(SIGTERM)
            try await Task.sleep(for: .seconds(2))
            child.signal(SIGKILL)
        }
        let status = await child.wait()
        watchdog.cancel()
        if stopped.load(ordering: .relaxed) && status > 128 {
            // Which signal ended it tells an operator whether the command
            // honours SIGTERM or had to be killed.
            let signal = status - 128
            let name = signal == SIGTERM ? "SIGTERM" : signal == SIGKILL ? "SIGKILL" : "signal \(signal)"
            throw HandlerFailure("\(command[0]) did not finish within \(timeout) and was stopped by \(name)")
        }
        return status
    }
}

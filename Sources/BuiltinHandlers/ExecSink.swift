import Foundation
import Glibc

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

/// Starts a process, feeds it stdin, and waits for its exit without
/// blocking a Swift concurrency thread.
public enum CommandRunner {
    /// The exit status; a timeout kills the process and throws.
    public static func run(_ command: [String], input: [UInt8], timeout: Duration) async throws -> Int32 {
        guard let program = command.first else { throw HandlerFailure("empty command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.contains("/") ? program : "/usr/bin/env")
        process.arguments = program.contains("/") ? Array(command.dropFirst()) : command
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.standardError
        process.standardError = FileHandle.standardError
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        do {
            try process.run()
        } catch {
            throw HandlerFailure("cannot start \(program): \(error.localizedDescription)")
        }
        // The child may exit without reading; a broken pipe must not kill us.
        signal(SIGPIPE, SIG_IGN)
        try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
        try? stdin.fileHandleForWriting.close()
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            if process.isRunning { process.terminate() }
            try await Task.sleep(for: .seconds(2))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        defer { watchdog.cancel() }
        var status: Int32 = -1
        for await code in exited.stream { status = code }
        if process.terminationReason == .uncaughtSignal {
            throw HandlerFailure("\(program) was killed (signal \(status)); timeout \(timeout)")
        }
        return status
    }
}

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

/// Runs a child process with stdin from memory and waits for its exit
/// without blocking a Swift concurrency thread.
///
/// Written on posix_spawn rather than Foundation's `Process` because the
/// child must start with an empty signal mask and default handlers: threads
/// of the Swift runtime block signals, and a child inheriting that mask
/// would ignore the SIGTERM that ends it at its timeout.
public enum CommandRunner {
    /// The exit status (128 + signal when killed). Past `timeout` the
    /// child's process group gets SIGTERM, then SIGKILL 2 s later, and the
    /// call throws.
    public static func run(_ command: [String], input: [UInt8], timeout: Duration) async throws -> Int32 {
        guard !command.isEmpty else { throw HandlerFailure("empty command") }
        let pid = try spawn(command, input: input)
        let stopped = Atomic<Bool>(false)
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            stopped.store(true, ordering: .relaxed)
            kill(-pid, SIGTERM)
            try await Task.sleep(for: .seconds(2))
            kill(-pid, SIGKILL)
        }
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: raw)
            }.start()
        }
        watchdog.cancel()
        if Self.wasSignalled(status) {
            let signal = status & 0x7F
            throw HandlerFailure(stopped.load(ordering: .relaxed)
                ? "\(command[0]) did not finish within \(timeout) and was stopped"
                : "\(command[0]) was killed by signal \(signal)")
        }
        return (status >> 8) & 0xFF
    }

    private static func wasSignalled(_ status: Int32) -> Bool {
        (status & 0x7F) != 0 && (status & 0x7F) != 0x7F
    }

    /// Starts the child in its own process group, stdin from a pipe that a
    /// helper thread fills, stdout and stderr to ours.
    private static func spawn(_ command: [String], input: [UInt8]) throws -> pid_t {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw HandlerFailure("cannot create a pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        posix_spawn_file_actions_addclose(&actions, readEnd)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var pid: pid_t = 0
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawnp(&pid, command[0], &actions, &attributes, argv, environ)
        close(readEnd)
        guard rc == 0 else {
            close(writeEnd)
            throw HandlerFailure("cannot start \(command[0]): \(String(cString: strerror(rc)))")
        }
        // A child that exits without reading must not stall or kill us.
        Thread {
            var written = 0
            while written < input.count {
                let n = input[written...].withUnsafeBytes { Glibc.write(writeEnd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                written += n
            }
            close(writeEnd)
        }.start()
        return pid
    }
}

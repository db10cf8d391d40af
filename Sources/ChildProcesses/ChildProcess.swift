import CLinuxSys
import Foundation
import Glibc
import Synchronization

/// A child process started with posix_spawn.
///
/// Not Foundation's `Process`, for two reasons found here: its `run()` can
/// crash on Linux (an over-read while listing /proc/self/fd, worse with many
/// open descriptors), and its children inherit the blocked signal mask of
/// Swift runtime threads, so SIGTERM never reaches them. Children start
/// with an empty mask, default handlers, and their own process group.
public struct ChildProcess: Sendable {
    public let pid: pid_t

    /// Where the child's standard input comes from.
    public enum Input: Sendable {
        case null
        case file(String)
        /// Written through a pipe by a helper thread, then closed.
        case bytes([UInt8])
    }

    /// Starts `command` (`command[0]` is looked up in PATH). Output goes to
    /// the given files (created or truncated), or to this process's own
    /// stdout/stderr when nil; `stdoutToStderr` sends the child's stdout
    /// wherever its stderr goes. (Not `stdout: "/dev/stderr"`: opening that
    /// path truncates the file behind this process's stderr, such as the
    /// server's log.) `directory` runs it elsewhere, through `sh`.
    public static func spawn(
        _ command: [String], input: Input = .null, stdout: String? = nil, stderr: String? = nil,
        stdoutToStderr: Bool = false, directory: String? = nil
    ) throws -> ChildProcess {
        guard !command.isEmpty else { throw SpawnError(message: "empty command") }
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        let argv = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + command } ?? command

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipeWriteEnd: Int32 = -1
        var pipeReadEnd: Int32 = -1
        switch input {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        case .bytes:
            var fds: [Int32] = [0, 0]
            // Both ends close-on-exec from the start: with pipe() and then
            // fcntl, a child spawned by another thread in between kept the
            // write end, and this child never saw the end of its input.
            guard pipe2(&fds, O_CLOEXEC) == 0 else { throw SpawnError(message: "pipe2: \(String(cString: strerror(errno)))") }
            posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
            posix_spawn_file_actions_addclose(&actions, fds[0])
            (pipeReadEnd, pipeWriteEnd) = (fds[0], fds[1])
        }
        if let stdout {
            posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        if stdoutToStderr {
            posix_spawn_file_actions_adddup2(&actions, 2, 1)
        }

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
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgs, environ)
        if pipeReadEnd >= 0 { close(pipeReadEnd) }
        guard rc == 0 else {
            if pipeWriteEnd >= 0 { close(pipeWriteEnd) }
            throw SpawnError(message: "cannot start \(command[0]): \(String(cString: strerror(rc)))")
        }
        if case .bytes(let bytes) = input {
            let fd = pipeWriteEnd
            Thread {
                var written = 0
                while written < bytes.count {
                    let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    written += n
                }
                close(fd)
            }.start()
        }
        return ChildProcess(pid: pid)
    }

    /// Waits for the exit on a thread of its own; the exit code, or 128 +
    /// the signal that ended it.
    public func wait() async -> Int32 {
        let pid = pid
        return await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Self.waitBlocking(pid)) }.start()
        }
    }

    /// Blocks the calling thread until the child exits.
    public func waitBlocking() -> Int32 { Self.waitBlocking(pid) }

    private static func waitBlocking(_ pid: pid_t) -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    /// Signals the child's whole process group.
    public func signal(_ signal: Int32) { kill(-pid, signal) }

    /// Runs to completion with output captured; past `timeout` the child is
    /// killed (SIGKILL) and its status is 128 + 9.
    public static func run(
        _ command: [String], input: Input = .null, directory: String? = nil, timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = NSTemporaryDirectory() + "child-\(UUID().uuidString)"
        defer {
            unlink(scratch + ".out")
            unlink(scratch + ".err")
        }
        let child = try spawn(command, input: input, stdout: scratch + ".out", stderr: scratch + ".err",
                              directory: directory)
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            child.signal(SIGKILL)
        }
        let status = await child.wait()
        watchdog.cancel()
        let out = (try? String(contentsOfFile: scratch + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: scratch + ".err", encoding: .utf8)) ?? ""
        return (status, out, err)
    }
}

public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

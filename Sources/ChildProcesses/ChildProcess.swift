import CLinuxSys
import Foundation
import Glibc
import Locking
import Synchronization

/// A child process started with posix_spawn.
///
/// Not Foundation's `Process`, for two reasons found here: its `run()` can
/// crash on Linux (an over-read while listing /proc/self/fd, worse with many
/// open descriptors), and its children inherit the blocked signal mask of
/// Swift runtime threads, so SIGTERM never reaches them. Children start
/// with an empty mask, default handlers, and their own process group.
package struct ChildProcess: Sendable {
    package let pid: pid_t

    /// Where the child's standard input comes from.
    package enum Input: Sendable {
        case null
        case file(String)
        /// Written through a pipe by a helper thread, then closed.
        case bytes([UInt8])
    }

    /// Where one of the child's output streams goes.
    package enum Output: Sendable, Equatable {
        /// The same descriptor as this process's (stdout to stdout, stderr to stderr).
        case inherit
        /// This process's own standard error descriptor (fd 2), shared, never
        /// re-opened by path: opening `/dev/stderr` truncates a log file it
        /// points to, and fails when it is a socket (systemd's journal).
        case standardError
        /// A file, created or truncated.
        case file(String)
        /// A file, created or appended to (`>>`).
        case append(String)
    }

    /// Starts `command` (`command[0]` is looked up in PATH). Output goes to
    /// the given files (created or truncated), or to this process's own
    /// stdout/stderr when nil. `directory` runs it elsewhere, through `sh`.
    package static func spawn(
        _ command: [String], input: Input = .null, stdout: String? = nil, stderr: String? = nil,
        directory: String? = nil
    ) throws -> ChildProcess {
        try spawn(command, input: input, output: stdout.map(Output.file) ?? .inherit,
                  errors: stderr.map(Output.file) ?? .inherit, directory: directory)
    }

    /// Starts `command` with each output stream where `output` and `errors`
    /// say. `environment` replaces this process's environment when given
    /// (nil inherits it); `command[0]` is looked up in its `PATH`.
    package static func spawn(
        _ command: [String], input: Input = .null, output: Output, errors: Output = .inherit,
        environment: [String: String]? = nil, directory: String? = nil
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
        for (descriptor, target) in [(Int32(1), output), (Int32(2), errors)] {
            switch target {
            case .inherit: break
            case .standardError: if descriptor != 2 { posix_spawn_file_actions_adddup2(&actions, 2, descriptor) }
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .append(let path):
                posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            }
        }

        // Last: the standard three are in place, and nothing else open here
        // (without O_CLOEXEC, by this process or a library) reaches the child.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

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
        let cEnvironment = environment.map { $0.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { cEnvironment?.forEach { free($0) } }
        // posix_spawnp searches the PATH of this process, not the child's:
        // look the program up in the child's own PATH instead.
        let program = environment.map { Self.resolve(argv[0], path: $0["PATH"]) } ?? argv[0]
        let rc = cEnvironment.map { posix_spawnp(&pid, program, &actions, &attributes, cArgs, $0) }
            ?? posix_spawnp(&pid, program, &actions, &attributes, cArgs, environ)
        if pipeReadEnd >= 0 { close(pipeReadEnd) }
        guard rc == 0 else {
            if pipeWriteEnd >= 0 { close(pipeWriteEnd) }
            throw SpawnError(message: "cannot start \(command[0]): \(String(cString: strerror(rc)))")
        }
        if case .bytes(let bytes) = input {
            let fd = pipeWriteEnd
            let writer: Void? = try? Self.onOwnThread {
                var written = 0
                while written < bytes.count {
                    let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    written += n
                }
                close(fd)
            }
            guard writer != nil else {
                // It would read an empty input and might succeed on it.
                close(fd)
                kill(-pid, SIGKILL)
                _ = Self.waitBlocking(pid)
                throw SpawnError(message: "cannot start the thread that feeds \(command[0]) its input")
            }
        }
        return ChildProcess(pid: pid)
    }

    /// Blocking work (a write to a pipe, `waitpid`) on a thread of its own,
    /// never on Swift's cooperative pool.
    private static func onOwnThread(_ body: @escaping @Sendable () -> Void) throws {
        do {
            try startThread(name: "child-process", detached: true, body)
        } catch {
            throw SpawnError(message: error.description)
        }
    }

    /// `program` found in the directories of `path`, as the shell would;
    /// unchanged when it has a slash or is nowhere (the spawn then says so).
    static func resolve(_ program: String, path: String?) -> String {
        guard !program.contains("/"), let path else { return program }
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return program
    }

    /// Waits for the exit on a thread of its own; the exit code, or 128 +
    /// the signal that ended it.
    package func wait() async -> Int32 {
        let pid = pid
        return await withCheckedContinuation { continuation in
            do {
                try Self.onOwnThread { continuation.resume(returning: Self.waitBlocking(pid)) }
            } catch {
                continuation.resume(returning: -1)
            }
        }
    }

    /// Blocks the calling thread until the child exits.
    package func waitBlocking() -> Int32 { Self.waitBlocking(pid) }

    private static func waitBlocking(_ pid: pid_t) -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    /// After the group was killed: returns once no live process is left in
    /// the child's process group (a zombie holds no files or locks any more),
    /// sending SIGKILL again meanwhile, on a thread of its own. Descendants
    /// outlive the reaped child by the moment their own SIGKILL takes; one
    /// that left the group (`setsid`) is not waited for. Gives up after
    /// `limit`, returning false.
    @discardableResult
    package func waitForGroupToEnd(limit: Duration = .seconds(10)) async -> Bool {
        let group = pid
        return await withCheckedContinuation { continuation in
            let started: Void? = try? Self.onOwnThread {
                let deadline = ContinuousClock.now + limit
                var ended = Self.groupHasEnded(group)
                while !ended && ContinuousClock.now < deadline {
                    kill(-group, SIGKILL)
                    usleep(2_000)
                    ended = Self.groupHasEnded(group)
                }
                continuation.resume(returning: ended)
            }
            if started == nil { continuation.resume(returning: false) }
        }
    }

    /// No process of group `group` is alive. `kill(-group, 0)` alone is not
    /// enough: it counts zombies that nobody reaps (an orphan whose new
    /// parent never waits), so the members are looked up in /proc.
    static func groupHasEnded(_ group: pid_t) -> Bool {
        if kill(-group, 0) != 0 && errno == ESRCH { return true }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return false }
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { continue }
            // After "(comm)": state, ppid, pgrp.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let memberGroup = pid_t(fields[2]), memberGroup == group else { continue }
            if fields[0] != "Z" && fields[0] != "X" { return false }
        }
        return true
    }

    /// Signals the child's whole process group.
    package func signal(_ signal: Int32) { kill(-pid, signal) }

    /// Runs to completion with output captured; past `timeout` the child is
    /// killed (SIGKILL) and its status is 128 + 9.
    package static func run(
        _ command: [String], input: Input = .null, directory: String? = nil, timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = NSTemporaryDirectory() + "child-\(UUID().uuidString)"
        defer {
            unlink(scratch + ".out")
            unlink(scratch + ".err")
        }
        let child = try spawn(command, input: input, stdout: scratch + ".out", stderr: scratch + ".err",
                              directory: directory)
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await child.wait() }
            group.addTask {
                // The watchdog: ends early, without a kill, once the child has.
                guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                child.signal(SIGKILL)
                return nil
            }
            var status: Int32 = -1
            for await result in group {
                guard let result else { continue }
                status = result
                group.cancelAll()
            }
            return status
        }
        let out = (try? String(contentsOfFile: scratch + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: scratch + ".err", encoding: .utf8)) ?? ""
        return (status, out, err)
    }
}

package struct SpawnError: Error, Sendable, CustomStringConvertible {
    package let message: String
    package var description: String { message }
}

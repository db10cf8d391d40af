import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
import Locking
#endif

/// A private PostgreSQL cluster for a test run: `initdb` into a temporary
/// directory, a server on a free loopback port (trust authentication, its
/// Unix socket in that directory), stopped and started again at will, and
/// deleted with its directory at the end.
///
/// The binaries are looked for in `$POSTGRES_BIN_DIR`, the newest
/// `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package), then `PATH`.
/// As root, the server runs as the `postgres` user (it refuses root).
public final class PostgresTestCluster: Sendable {
    public let binDirectory: String
    public let directory: String
    public let port: Int
    private let databases = Atomic<Int>(0)

    private var dataDirectory: String { "\(directory)/data" }

    /// Where the binaries are, or `nil` when PostgreSQL is not installed.
    public static let binaries: String? = {
        let fileManager = FileManager.default
        func hasServer(_ directory: String) -> Bool {
            fileManager.isExecutableFile(atPath: "\(directory)/initdb")
                && fileManager.isExecutableFile(atPath: "\(directory)/pg_ctl")
        }
        if let configured = ProcessInfo.processInfo.environment["POSTGRES_BIN_DIR"], hasServer(configured) {
            return configured
        }
        let versions = (try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.compactMap(Int.init).sorted(by: >) where hasServer("/usr/lib/postgresql/\(version)/bin") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map(String.init).first(where: hasServer)
    }()

    public static let missingMessage =
        "PostgreSQL server binaries not found (install Debian's postgresql package, or set POSTGRES_BIN_DIR); "
        + "see scripts/postgres-test-server"

    /// Whether tests that need a server run: when the binaries are there,
    /// and always under CI (where a missing server is a failure, not a skip).
    public static var shouldRun: Bool { binaries != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    private init(binDirectory: String, directory: String, port: Int) {
        self.binDirectory = binDirectory
        self.directory = directory
        self.port = port
    }

    /// Creates and starts a cluster.
    public static func start() async throws -> PostgresTestCluster {
        guard let binaries else { throw PostgresTestClusterError(message: missingMessage) }
        var template = Array("/tmp/trustpay-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PostgresTestClusterError(message: "mkdtemp failed: errno \(errno)") }
        let directory = String(cString: made)
        if geteuid() == 0 {
            guard let user = getpwnam("postgres") else {
                throw PostgresTestClusterError(message: "running as root, but there is no postgres user to run the server as")
            }
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        let server = PostgresTestCluster(binDirectory: binaries, directory: directory, port: try freeLoopbackPort())
        do {
            try await server.run(
                "initdb", ["-D", server.dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            try await server.startServer()
        } catch {
            await server.destroy()
            throw error
        }
        return server
    }

    /// Starts the stopped server again, on the same port.
    public func startServer() async throws {
        let options = [
            "-p \(port)", "-k \(directory)", "-c listen_addresses=127.0.0.1", "-c max_connections=300",
            // Test data needs no durability; the disks here are slow.
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
        ].joined(separator: " ")
        do {
            try await run("pg_ctl", ["-D", dataDirectory, "-l", "\(directory)/server.log", "-w", "-t", "60", "-o", options, "start"])
        } catch {
            throw PostgresTestClusterError(message: "\(error)\nserver log:\n\(log.suffix(2000))")
        }
    }

    /// Stops the server; its connections are closed (`-m fast`).
    public func stopServer() async throws {
        try await run("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Stops the server if it runs and deletes the cluster.
    public func destroy() async {
        if FileManager.default.fileExists(atPath: "\(dataDirectory)/postmaster.pid") {
            _ = try? await run("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
        }
        // The exiting server may still be removing its last files.
        for _ in 0..<50 where FileManager.default.fileExists(atPath: directory) {
            try? FileManager.default.removeItem(atPath: directory)
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A new, empty database; returns its URL.
    public func createDatabase() async throws -> String {
        let name = "inbox_\(databases.add(1, ordering: .relaxed).newValue)"
        try await run("createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", name])
        return url(database: name)
    }

    public func url(database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// The server's log, for failure messages.
    public var log: String { (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? "" }

    // MARK: processes

    /// Runs a PostgreSQL program to its end on a thread of its own: the
    /// cooperative pool that runs the tests must never block.
    @discardableResult
    private func run(_ program: String, _ arguments: [String]) async throws -> String {
        var command = ["\(binDirectory)/\(program)"] + arguments
        if geteuid() == 0 { command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command }
        // The server outlives the call (pg_ctl start) and would keep every
        // descriptor it inherits open: other tests' pipes and sockets, whose
        // ends then never close. Bash closes them all before running it.
        let wrapped = [
            "-c", #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; if ((fd > 2)); then eval "exec $fd>&-"; fi; done; exec "$@""#,
            "close-inherited-descriptors",
        ] + command
        let outputPath = "\(directory)/\(program)-\(UUID().uuidString).out"
        let (status, output) = try await runOnThread("/bin/bash", wrapped, outputPath: outputPath)
        guard status == 0 else {
            throw PostgresTestClusterError(message: "\(command.joined(separator: " ")) exited with \(status): \(output)")
        }
        return output
    }

    private func runOnThread(_ executable: String, _ arguments: [String], outputPath: String) async throws -> (Int32, String) {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    defer { try? FileManager.default.removeItem(atPath: outputPath) }
                    let status = try spawnAndWait(executable, arguments, outputPath: outputPath)
                    let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                    continuation.resume(returning: (status, text))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }
}

/// Runs a program and waits for it, blocking the calling thread. Not
/// Foundation's `Process`: it notices an exit when every copy of a socket
/// it hands the child is closed, and the server `pg_ctl start` leaves
/// running would hold one.
private func spawnAndWait(_ executable: String, _ arguments: [String], outputPath: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for argument in argv { free(argument) } }
    // Threads of the cooperative pool block most signals, and a child
    // inherits its parent thread's mask: start with none blocked.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    guard spawned == 0 else { throw PostgresTestClusterError(message: "cannot start \(executable): errno \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 {
        guard errno == EINTR else { throw PostgresTestClusterError(message: "waitpid failed: errno \(errno)") }
    }
    // WIFEXITED / WEXITSTATUS, which Swift does not import.
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

public struct PostgresTestClusterError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A loopback port nothing is bound to now, and that the kernel will not
/// hand out by itself later: it lies below the ephemeral range
/// (`ip_local_port_range`), which outgoing connections and `bind` to port 0
/// draw from. A cluster stopped for an outage test must be able to start
/// again on its port; a port from the ephemeral range was once taken by
/// another socket in between ("could not bind … Address already in use").
/// Ports handed out here are never handed out again by this process.
public func freeLoopbackPort() throws -> Int {
    let ephemeralStart = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
        .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 32768
    let range = 20000..<max(20001, min(ephemeralStart, 32768))
    for _ in 0..<200 {
        let port = Int.random(in: range)
        let fresh = handedOut.withLock { $0.insert(port).inserted }
        if fresh, try isFree(port) { return port }
    }
    throw PostgresTestClusterError(message: "no free loopback port in \(range)")
}

private let handedOut = Locked<Set<Int>>([])

/// Whether `port` can be bound on 127.0.0.1 right now.
private func isFree(_ port: Int) throws -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw PostgresTestClusterError(message: "socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

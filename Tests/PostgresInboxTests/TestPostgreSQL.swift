import Foundation
import Logging
import PostgresInbox
import PostgresNIO
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster for a test run: `initdb` into a temporary
/// directory, a server on a free loopback port (trust authentication, its
/// Unix socket in that directory), stopped and started again at will, and
/// deleted with its directory at the end.
///
/// The binaries are looked for in `$POSTGRES_BIN_DIR`, the newest
/// `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package), then `PATH`.
/// As root, the server runs as the `postgres` user (it refuses root).
final class TestPostgreSQL: Sendable {
    let binDirectory: String
    let directory: String
    let port: Int
    private let databases = Atomic<Int>(0)

    private var dataDirectory: String { "\(directory)/data" }

    /// Where the binaries are, or `nil` when PostgreSQL is not installed.
    static let binaries: String? = {
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

    static let missingMessage =
        "PostgreSQL server binaries not found (install Debian's postgresql package, or set POSTGRES_BIN_DIR); "
        + "see scripts/postgres-test-server"

    /// Whether tests that need a server run: when the binaries are there,
    /// and always under CI (where a missing server is a failure, not a skip).
    static var shouldRun: Bool { binaries != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    private init(binDirectory: String, directory: String, port: Int) {
        self.binDirectory = binDirectory
        self.directory = directory
        self.port = port
    }

    /// Creates and starts a cluster.
    static func start() async throws -> TestPostgreSQL {
        guard let binaries else { throw TestPostgreSQLError(message: missingMessage) }
        var template = Array("/tmp/trustpay-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestPostgreSQLError(message: "mkdtemp failed: errno \(errno)") }
        let directory = String(cString: made)
        if geteuid() == 0 {
            guard let user = getpwnam("postgres") else {
                throw TestPostgreSQLError(message: "running as root, but there is no postgres user to run the server as")
            }
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        let server = TestPostgreSQL(binDirectory: binaries, directory: directory, port: try freeLoopbackPort())
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
    func startServer() async throws {
        let options = [
            "-p \(port)", "-k \(directory)", "-c listen_addresses=127.0.0.1", "-c max_connections=300",
            // Test data needs no durability; the disks here are slow.
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
        ].joined(separator: " ")
        try await run("pg_ctl", ["-D", dataDirectory, "-l", "\(directory)/server.log", "-w", "-t", "60", "-o", options, "start"])
    }

    /// Stops the server; its connections are closed (`-m fast`).
    func stopServer() async throws {
        try await run("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Stops the server if it runs and deletes the cluster.
    func destroy() async {
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
    func createDatabase() async throws -> String {
        let name = "inbox_\(databases.add(1, ordering: .relaxed).newValue)"
        try await run("createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", name])
        return url(database: name)
    }

    func url(database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// The server's log, for failure messages.
    var log: String { (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? "" }

    // MARK: processes

    /// Runs a PostgreSQL program to its end on a thread of its own: the
    /// cooperative pool that runs the tests must never block.
    @discardableResult
    private func run(_ program: String, _ arguments: [String]) async throws -> String {
        var executable = "\(binDirectory)/\(program)"
        var arguments = arguments
        if geteuid() == 0 {
            arguments = ["-u", "postgres", "--", executable] + arguments
            executable = "/usr/sbin/runuser"
        }
        let outputPath = "\(directory)/\(program)-\(UUID().uuidString).out"
        let (status, output) = try await runOnThread(executable, arguments, outputPath: outputPath)
        guard status == 0 else {
            throw TestPostgreSQLError(message: "\(program) \(arguments.joined(separator: " ")) exited with \(status): \(output)")
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
/// Foundation's `Process`: that waits until every inherited descriptor is
/// closed, and `pg_ctl start` leaves the server running with them.
private func spawnAndWait(_ executable: String, _ arguments: [String], outputPath: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // Other descriptors are inherited: the project's and NIO's sockets are
    // all close-on-exec, so the server keeps none of them open.
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for argument in argv { free(argument) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else { throw TestPostgreSQLError(message: "cannot start \(executable): errno \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 {
        guard errno == EINTR else { throw TestPostgreSQLError(message: "waitpid failed: errno \(errno)") }
    }
    // WIFEXITED / WEXITSTATUS, which Swift does not import.
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

struct TestPostgreSQLError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A port nothing listens on right now.
private func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TestPostgreSQLError(message: "socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
        }
    }
    guard bound else { throw TestPostgreSQLError(message: "bind() failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Starts one private cluster around the suite it is attached to (and its
/// nested suites), and deletes it afterwards.
struct PostgreSQLScope: SuiteTrait, TestScoping {
    @TaskLocal static var server: TestPostgreSQL?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await TestPostgreSQL.start()
        do {
            try await Self.$server.withValue(server) { try await function() }
        } catch {
            await server.destroy()
            throw error
        }
        await server.destroy()
    }
}

extension Trait where Self == PostgreSQLScope {
    /// A private PostgreSQL for this suite.
    static var postgreSQL: Self { PostgreSQLScope() }
}

/// The suite's cluster.
func sharedServer() throws -> TestPostgreSQL {
    try #require(PostgreSQLScope.server, "the suite needs the .postgreSQL trait")
}

/// Quiet unless something is wrong.
let testLogger: Logger = {
    var logger = Logger(label: "postgres-inbox-tests")
    logger.logLevel = .warning
    return logger
}()

/// An inbox on a fresh database of the suite's cluster, shut down afterwards.
func withInbox<Result: Sendable>(
    poolSize: Int = 4, operationTimeout: Duration = .seconds(10), retention: Duration? = nil,
    _ body: (PostgresInbox) async throws -> Result
) async throws -> Result {
    let url = try await sharedServer().createDatabase()
    let inbox = try await PostgresInbox.connect(
        url: url, poolSize: poolSize, operationTimeout: operationTimeout, retention: retention, logger: testLogger)
    do {
        let result = try await body(inbox)
        await inbox.shutdown()
        return result
    } catch {
        await inbox.shutdown()
        throw error
    }
}

/// A plain PostgresNIO client on `url`, running for `body`: for what the
/// inbox does not do (holding a lock, reading the schema version table).
func withRawClient<Result: Sendable>(
    _ url: String, _ body: (PostgresClient) async throws -> Result
) async throws -> Result {
    let client = PostgresClient(configuration: try DatabaseURL(url).configuration)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

/// Runs `body` with `inbox` and shuts the inbox down afterwards, even when `body` throws.
func using<Result: Sendable>(_ inbox: PostgresInbox, _ body: () async throws -> Result) async throws -> Result {
    do {
        let result = try await body()
        await inbox.shutdown()
        return result
    } catch {
        await inbox.shutdown()
        throw error
    }
}

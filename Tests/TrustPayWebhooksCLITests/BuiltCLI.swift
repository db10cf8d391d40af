import ChildProcesses
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What a finished run of the binary printed, and how it ended.
struct CommandResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
    var output: String { stdout + stderr }
}

/// The built `trustpay-webhooks` binary, run as a subprocess.
///
/// Output goes to files and the exit is awaited through the termination
/// handler, so no test blocks a thread of the cooperative pool; a watchdog
/// SIGKILLs any run that outlives its time limit.
enum BuiltCLI {
    /// `trustpay-webhooks` beside the test bundle in the build folder.
    static func path() throws -> String { try builtExecutable("trustpay-webhooks") }

    static func run(
        _ arguments: [String], stdin: String? = nil, in directory: ScratchDirectory,
        timeout: Duration = .seconds(30)
    ) async throws -> CommandResult {
        let binary = try path()
        // ChildProcess, not Foundation's Process: see ChildProcesses for why.
        let result = try await ChildProcess.run(
            [binary] + arguments, input: stdin.map { .bytes(Array($0.utf8)) } ?? .null,
            directory: directory.url.path, timeout: timeout)
        return CommandResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

/// A `serve` subprocess on a free port, with the jsonl handler writing to
/// `events`. Stop it with ``stop()``; it is SIGKILLed, which is reliable.
struct ServeProcess {
    let pid: Int32
    let port: Int
    let events: URL

    static func start(secret: String, in directory: ScratchDirectory) async throws -> ServeProcess {
        let events = directory.url.appendingPathComponent("events.jsonl")
        return try await start(config: ScratchDirectory.config(secret: secret, events: events), in: directory)
    }

    /// Starts `serve` with `config` (written to serve.yaml); `events` is the
    /// directory's events.jsonl, whatever the config does with it. Its
    /// standard error is serve.log, opened for appending when `appendLog`
    /// (as `2>>` would); `environment` replaces the test's own.
    /// `openFiles` starts it under `ulimit -n` (soft and hard).
    static func start(
        config yaml: String, in directory: ScratchDirectory, openFiles: Int? = nil, appendLog: Bool = false,
        environment: [String: String]? = nil
    ) async throws -> ServeProcess {
        let binary = try BuiltCLI.path()
        let events = directory.url.appendingPathComponent("events.jsonl")
        let config = directory.file("serve.yaml", contents: yaml)
        let log = directory.url.appendingPathComponent("serve.log")
        let command = [binary, "serve", "--config", config.path]
        let child = try ChildProcess.spawn(
            openFiles.map { ["/bin/sh", "-c", "ulimit -n \($0) && exec \"$@\"", "sh"] + command } ?? command,
            output: .file(log.path + ".out"), errors: appendLog ? .append(log.path) : .file(log.path),
            environment: environment, directory: directory.url.path)
        let pid = child.pid
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"address=[0-9.]+:[0-9]+"#, options: .regularExpression),
               let port = Int(text[range].split(separator: ":").last ?? "")
            {
                return ServeProcess(pid: pid, port: port, events: events)
            }
            if kill(pid, 0) != 0 { Issue.record("serve exited before listening:\n\(text)"); break }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        throw CancellationError()
    }

    var paymentURL: String { "http://127.0.0.1:\(port)/trustpay/payment" }
    var log: URL { events.deletingLastPathComponent().appendingPathComponent("serve.log") }

    func stop() { kill(pid, SIGKILL) }

    /// The jsonl lines once there are at least `count`, or whatever is there at the deadline.
    func eventLines(atLeast count: Int, within limit: Duration = .seconds(10)) async throws -> [String] {
        let deadline = ContinuousClock.now + limit
        while true {
            let text = (try? String(contentsOf: events, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").map(String.init)
            if lines.count >= count || ContinuousClock.now >= deadline { return lines }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A temporary directory, removed by ``remove()``.
struct ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    @discardableResult
    func file(_ name: String, contents: String) -> URL {
        let file = url.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(contents.utf8))
        return file
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    static let merchantID: Int64 = 8820250900009

    /// Memory store, a free port, one merchant, the jsonl handler.
    static func config(secret: String, events: URL, numberForms: [String]? = nil) -> String {
        let forms = numberForms.map { "\n    number_forms: [\($0.joined(separator: ", "))]" } ?? ""
        return """
        server:
          host: 127.0.0.1
          port: 0
          event_loops: 1
        store:
          kind: memory
        merchants:
          - id: \(merchantID)
            secrets:
              - value: "\(secret)"\(forms)
        handlers:
          - type: jsonl
            path: \(events.path)
        """
    }
}

/// The store a test's `serve` uses.
enum TestStore {
    /// `inbox.sqlite` in the scratch directory.
    case sqlite
    /// The database at `url`, with a 2 s call timeout.
    case postgres(url: String)
}

extension ScratchDirectory {
    /// A `serve` configuration for tests: loopback on a free port, one event
    /// loop, `store`, the test merchant with `secret`, then `rest` (retry,
    /// handlers, routes; top-level YAML, unindented).
    func serveConfig(store: TestStore = .sqlite, secret: String, _ rest: String = "") -> String {
        let storeLines =
            switch store {
            case .sqlite: "  kind: sqlite\n  sqlite:\n    path: \(url.path)/inbox.sqlite"
            case .postgres(let databaseURL): "  kind: postgres\n  postgres:\n    url: \"\(databaseURL)\"\n    timeout: 2s"
            }
        return """
            server:
              host: 127.0.0.1
              port: 0
              event_loops: 1
            store:
            \(storeLines)
            merchants:
              - id: \(Self.merchantID)
                secrets: [{value: "\(secret)"}]
            \(rest)
            """
    }
}

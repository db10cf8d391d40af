import Foundation
import HTTPServer
import Inbox
import Logging
import Metrics
import PostgresInbox
import Prometheus
import SQLiteInbox
import Synchronization
import TrustPay
import Webhooks

/// Feeds requests through the HTTP head parser and the webhook pipeline
/// (memory inbox, after-store dispatch, its workers and one payment
/// handler) in one process, without sockets: instruction counts under
/// callgrind, which cannot run the server itself (valgrind 3.19 crashes in
/// libdispatch's signal thread).
///
///     pipeline-harness healthz N
///     TRUSTPAY_SECRET=… pipeline-harness callback N CORPUS     # CORPUS from bench-corpus
///     TRUSTPAY_SECRET=… pipeline-harness callback-sqlite N CORPUS [DBDIR]
///     TRUSTPAY_SECRET=… pipeline-harness callback-postgres N CORPUS URL    # an empty database
///     pipeline-harness read N CORPUS                            # only what the harness itself does per body
///
/// `PIPELINE_HARNESS_CAPACITY=1000` sizes the memory inbox for 1,000 events
/// (default 100,000, the server's): past it every record evicts one.
///
/// Requests are sent one after another, at most `PIPELINE_HARNESS_WINDOW`
/// (default 64, wrk's connections; 0 for no bound) acknowledged and not yet
/// handled; after the last, the harness waits until the handler has seen
/// every recorded event. `callback-sqlite` is
/// the durable path instead: a fresh SQLiteInbox (the server's defaults:
/// synchronous=full, group commit) in DBDIR or a temporary directory,
/// removed afterwards; requests go ``sqliteInFlight`` at a time, as wrk's
/// connections send them, so that the writer batches as under load; the
/// harness waits until every completion has committed, and prints the
/// writer's statistics (writes per commit). Per request is the
/// difference of two runs (N = 11,000 and N = 1,000) divided by 10,000, so
/// start-up cancels out; `read` prices the harness's own work per body
/// (reading the corpus, building the request bytes) to subtract.
/// `callback-postgres` is the same over a PostgresInbox (the server's pool
/// of 8) at URL: this process's instructions only, PostgreSQL's own are
/// another process's; it waits until the database counts every event
/// completed.
///
/// What it leaves out of the server's path: the socket reads and writes,
/// the event loop, the hop to the handler executor and back, and response
/// encoding (internal to Server). Headers are handed over as name/value
/// pairs, the public way to build an `HTTPRequest`. The payment handler
/// does nothing (the server's `log` handler at level warning writes nothing
/// either, but builds its metadata).
@main
struct PipelineHarness {
    /// Not `async main`: on Linux that parks the main thread in libdispatch's
    /// signal thread (sigsuspend), where valgrind 3.19 crashes. The main
    /// thread blocks on a semaphore instead while a task does the work
    /// (detached: `main` is on the main actor, which that thread holds).
    static func main() {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await run()
            done.signal()
        }
        done.wait()
    }

    static func run() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count >= 2, let count = Int(arguments[1]), count > 0 else {
            FileHandle.standardError.write(Data("usage: pipeline-harness healthz|callback|read N [CORPUS]\n".utf8))
            exit(2)
        }
        let mode = arguments[0]
        let requests: [[UInt8]]
        switch mode {
        case "healthz":
            requests = Array(repeating: Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8), count: count)
        case "callback", "callback-sqlite", "callback-postgres", "read":
            guard arguments.count == 3 || (mode == "callback-sqlite" && arguments.count == 4)
                || (mode == "callback-postgres" && arguments.count == 4) else {
                fatalError("\(mode) needs a corpus (and callback-postgres a database URL)")
            }
            requests = callbackRequests(corpus: arguments[2], count: count)
            if mode == "read" { return }
        default:
            fatalError("unknown mode \(mode)")
        }

        // Counted as the server counts (it bootstraps Prometheus before the pipeline exists).
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let secret = ProcessInfo.processInfo.environment["TRUSTPAY_SECRET"] ?? "unused"
        var logger = Logger(label: "pipeline-harness")
        logger.logLevel = .warning
        let configuration = WebhookConfiguration(merchants: [Merchant(id: 8_820_250_900_009, secret: secret)])
        if mode == "callback-sqlite" {
            await runSQLite(requests, configuration: configuration, directory: arguments.count == 4 ? arguments[3] : nil,
                            logger: logger)
            return
        }
        if mode == "callback-postgres" {
            await runPostgres(requests, configuration: configuration, url: arguments[3], logger: logger)
            return
        }
        // PIPELINE_HARNESS_CAPACITY: a smaller inbox, for the cost of a record at capacity (each evicts one event).
        let capacity = ProcessInfo.processInfo.environment["PIPELINE_HARNESS_CAPACITY"].flatMap { Int($0) } ?? 100_000
        var webhooks = WebhookServer(configuration: configuration, store: MemoryInbox(capacity: capacity), logger: logger)
        let handled = HandledCount()
        webhooks.onPayment { _ in handled.increment() }
        let pipeline = webhooks.makePipeline()
        let router = pipeline.router
        // PIPELINE_HARNESS_WINDOW: events acknowledged and not yet handled at most (0: no bound).
        let bound = ProcessInfo.processInfo.environment["PIPELINE_HARNESS_WINDOW"].flatMap { Int($0) } ?? sqliteInFlight
        let window = bound > 0 ? bound : Int.max

        var acknowledged = 0
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await pipeline.runWorkers() }
            var head = RequestHead()
            for bytes in requests {
                // The server's workers keep up with its sockets (under wrk, 99% of
                // its events are handed over; BENCHMARKS.md session 14); the
                // harness's sender, without sockets, would outrun them, fill the
                // hand-off, and measure the claim path instead.
                if mode == "callback", acknowledged - handled.value >= window {
                    await handled.wait(untilAtLeast: acknowledged - window / 2)
                }
                let request = bytes.withUnsafeBytes { parse($0, into: &head) }
                let response = await router.respond(to: request)
                if response.status.code == 200 { acknowledged += 1 }
            }
            if mode == "callback" {
                while handled.value < acknowledged { try? await Task.sleep(for: .milliseconds(1)) }
            }
            group.cancelAll()
        }
        guard acknowledged == count else { fatalError("\(count - acknowledged) requests not answered 200") }
        print("\(mode): \(count) requests answered 200, \(handled.value) handled")
    }

    /// Where the pipeline counts, as the server's `/metrics` reads it.
    static let registry = PrometheusCollectorRegistry()

    /// The workers' events by how they reached them (hand-off or claim), as `/metrics` shows them.
    static func dispatchedEvents() -> String {
        var text: [UInt8] = []
        registry.emit(into: &text)
        return String(decoding: text, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("trustpay_webhooks_dispatched_events_total{") }.joined(separator: ", ")
    }

    /// Requests in flight at once on the durable path: wrk's connections in scripts/bench-all.
    static let sqliteInFlight = 64

    /// `requests` through the pipeline over a fresh SQLiteInbox; returns
    /// once every completion has committed.
    static func runSQLite(
        _ requests: [[UInt8]], configuration: WebhookConfiguration, directory: String?, logger: Logger
    ) async {
        let base = directory ?? NSTemporaryDirectory()
        let folder = URL(fileURLWithPath: base).appendingPathComponent("pipeline-harness-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inbox: SQLiteInbox
        do {
            inbox = try await SQLiteInbox.open(path: folder + "/inbox.sqlite")
        } catch {
            fatalError("cannot open the SQLite inbox in \(folder): \(error)")
        }
        // Every write: each request's record, then each handled event's completion.
        let (acknowledged, handled) = await runDurable(requests, store: inbox, configuration: configuration, logger: logger) {
            handled in inbox.writerStatistics.writes >= requests.count + handled
        }
        let statistics = inbox.writerStatistics
        await inbox.close()
        guard acknowledged == requests.count else {
            fatalError("\(requests.count - acknowledged) requests not answered 200")
        }
        print(
            "callback-sqlite: \(requests.count) requests answered 200, \(handled) handled; writer: "
                + "\(statistics.writes) writes in \(statistics.commits) commits (largest batch \(statistics.largestBatch), "
                + "\(statistics.failedWrites) failed); \(dispatchedEvents())")
    }

    /// `requests` through the pipeline over a PostgresInbox at `url` (an
    /// empty database); returns once it counts every event completed.
    static func runPostgres(_ requests: [[UInt8]], configuration: WebhookConfiguration, url: String, logger: Logger) async {
        let inbox: PostgresInbox
        do {
            inbox = try await PostgresInbox.connect(url: url, poolSize: 8, logger: logger)
        } catch {
            fatalError("cannot connect to PostgreSQL at \(url): \(error)")
        }
        let completed = EventFilter(states: [.completed])
        let (acknowledged, handled) = await runDurable(requests, store: inbox, configuration: configuration, logger: logger) {
            handled in (try? await inbox.count(completed)) ?? 0 >= handled
        }
        await inbox.shutdown()
        guard acknowledged == requests.count else {
            fatalError("\(requests.count - acknowledged) requests not answered 200")
        }
        print("callback-postgres: \(requests.count) requests answered 200, \(handled) handled; \(dispatchedEvents())")
    }

    /// `requests` through the pipeline over `store`, ``sqliteInFlight`` at a
    /// time; returns (acknowledged, handled) once every event is handled and
    /// `settled(handled)` says its outcome is stored.
    static func runDurable(
        _ requests: [[UInt8]], store: any IdempotencyStore, configuration: WebhookConfiguration, logger: Logger,
        settled: @escaping @Sendable (Int) async -> Bool
    ) async -> (acknowledged: Int, handled: Int) {
        var webhooks = WebhookServer(configuration: configuration, store: store, logger: logger)
        let handled = HandledCount()
        webhooks.onPayment { _ in handled.increment() }
        let pipeline = webhooks.makePipeline()
        let router = pipeline.router

        let acknowledged = await withTaskGroup(of: Int.self) { workers in
            workers.addTask {
                await pipeline.runWorkers()
                return 0
            }
            let acknowledged = await withTaskGroup(of: Int.self) { senders in
                var head = RequestHead()
                var acknowledged = 0
                for (index, bytes) in requests.enumerated() {
                    if index >= sqliteInFlight { acknowledged += await senders.next() ?? 0 }
                    let request = bytes.withUnsafeBytes { parse($0, into: &head) }
                    senders.addTask { await router.respond(to: request).status.code == 200 ? 1 : 0 }
                }
                for await answer in senders { acknowledged += answer }
                return acknowledged
            }
            while true {
                let count = handled.value
                if count >= acknowledged, await settled(count) { break }
                try? await Task.sleep(for: .milliseconds(1))
            }
            workers.cancelAll()
            return acknowledged
        }
        return (acknowledged, handled.value)
    }

    /// The head through `RequestHeadParser`, then an `HTTPRequest` as the connection builds one.
    static func parse(_ bytes: UnsafeRawBufferPointer, into head: inout RequestHead) -> HTTPRequest {
        guard case .complete = RequestHeadParser.parse(bytes, limits: HTTPLimits(), into: &head) else {
            fatalError("the harness's request did not parse")
        }
        func text(_ range: ByteRange) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range.start..<range.end]), as: UTF8.self)
        }
        let target = text(head.target)
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        let headers = HTTPHeaders(head.headers.map { (text($0.name), text($0.value)) })
        let body = Array(UnsafeRawBufferPointer(rebasing: bytes[head.headLength...]))
        return HTTPRequest(method: HTTPMethod(text(head.method)), path: path, headers: headers, body: body)
    }

    static func callbackRequests(corpus: String, count: Int) -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: corpus) else { fatalError("cannot read \(corpus)") }
        let lines = data.split(separator: UInt8(ascii: "\n"))
        guard lines.count >= count else { fatalError("the corpus has \(lines.count) bodies, fewer than \(count)") }
        return lines.prefix(count).map { body in
            Array(
                "POST /trustpay/payment HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                    .utf8) + body
        }
    }
}

/// Events the payment handler has seen, and a sender waiting for it to catch up.
final class HandledCount: Sendable {
    private struct State {
        var count = 0
        var waiter: (atLeast: Int, continuation: CheckedContinuation<Void, Never>)?
    }
    private let state = Mutex(State())
    var value: Int { state.withLock { $0.count } }

    func increment() {
        let resumed = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.count += 1
            guard let waiter = state.waiter, state.count >= waiter.atLeast else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        resumed?.resume()
    }

    /// Returns once `count` events have been handled (one waiter at a time).
    func wait(untilAtLeast count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.count >= count { return true }
                state.waiter = (count, continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

import Dispatch
import Durations
import Glibc
import Logging
import Synchronization
import Locking

/// An HTTP/1.1 server on epoll: `eventLoops` threads sharing one listening
/// socket per listener, serving `router`.
///
/// ```swift
/// var router = Router()
/// router.add(.get, "/healthz", .immediate { _ in HTTPResponse(status: .ok) })
/// let server = Server(configuration: .init(host: "127.0.0.1", port: 0), router: router)
/// let addresses = try server.start()
/// server.waitUntilStopped()
/// ```
///
/// It is also a `Service` (see `Server+Service.swift`): in a
/// `ServiceGroup` it starts, serves, and drains on graceful shutdown.
public final class Server: Sendable {
    public let configuration: HTTPServerConfiguration
    private let router: Router
    private let logger: Logger
    private let state = Locked<State>(State())
    private let shared: ServerShared
    /// Entered at start, left when every loop thread has ended.
    private let running = DispatchGroup()

    private struct State {
        var workers: [LoopWorker] = []
        var addresses: [SocketAddress] = []
        var started = false
        var shuttingDown = false
    }

    public init(configuration: HTTPServerConfiguration, router: Router,
                logger: Logger = Logger(label: "http-server")) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        shared = ServerShared(logger: logger)
    }

    /// Binds every listener on every loop and starts the loop threads.
    /// Returns the bound addresses, with real ports where port 0 was asked.
    @discardableResult
    public func start() throws -> [SocketAddress] {
        signal(SIGPIPE, SIG_IGN)
        let loopCount = max(1, configuration.eventLoops)
        let contexts = try configuration.listeners.map { try $0.tls.map(TLSContext.init) }
        var workers: [LoopWorker] = []
        for index in 0..<loopCount {
            workers.append(LoopWorker(loop: try EventLoop(index: index), configuration: configuration,
                                      router: router, shared: shared))
        }
        var addresses: [SocketAddress] = []
        var opened: [Int32] = []
        do {
            var sockets: [(ListeningSocket, TLSContext?)] = []
            for (listener, tls) in zip(configuration.listeners, contexts) {
                let fd = try Socket.listen(on: listener.address, backlog: configuration.backlog)
                opened.append(fd)
                // Port 0 asks the kernel for a free port: report the real one.
                var address = listener.address
                if address.port == 0, let bound = Socket.localAddress(of: fd) { address.port = bound.port }
                addresses.append(address)
                sockets.append((ListeningSocket(fd: fd, users: workers.count), tls))
            }
            for worker in workers {
                worker.siblings = workers
                for (socket, tls) in sockets { worker.addListener(socket, tls: tls) }
            }
        } catch {
            for fd in opened { close(fd) }
            throw error
        }
        var threads: [pthread_t] = []
        for (index, worker) in workers.enumerated() {
            threads.append(try Self.spawn(name: "http-loop-\(index)") {
                worker.loop.run()
                worker.siblings = []  // the loops refer to each other: break the cycle
            })
        }
        running.enter()
        try Self.spawn(name: "http-join", detached: true) { [running, threads] in
            for thread in threads { pthread_join(thread, nil) }
            running.leave()
        }
        state.withLock {
            $0.workers = workers
            $0.addresses = addresses
            $0.started = true
        }
        for address in addresses { logger.info("listening", metadata: ["address": "\(address)"]) }
        return addresses
    }

    public var boundAddresses: [SocketAddress] { state.withLock { $0.addresses } }

    /// The executor async route handlers run on: code that runs handlers
    /// elsewhere (the webhook dispatch workers) prefers it too, so that a
    /// handler that blocks its thread never blocks Swift's cooperative pool.
    public static var handlerExecutor: any TaskExecutor { HandlerExecutor.shared }

    var isStarted: Bool { state.withLock { $0.started } }

    public var openConnections: Int { shared.connectionCount }

    /// Bytes of buffers the open connections hold (input, output, bodies),
    /// read on each loop's own thread.
    func connectionBufferBytes() async -> Int {
        let workers = state.withLock { $0.workers }
        var total = 0
        for worker in workers {
            total += await withCheckedContinuation { (done: CheckedContinuation<Int, Never>) in
                if !worker.loop.execute({ done.resume(returning: worker.connectionBufferBytes()) }) {
                    done.resume(returning: 0)
                }
            }
        }
        return total
    }

    /// How often each loop has woken with events so far.
    var loopWakeups: [Int] { state.withLock { $0.workers.map { $0.loop.wakeups.load(ordering: .relaxed) } } }

    /// How often each loop has returned from `epoll_wait`, timeouts included.
    var loopPolls: [Int] { state.withLock { $0.workers.map { $0.loop.polls.load(ordering: .relaxed) } } }

    /// How many connections each loop serves (or has been handed).
    var connectionsPerLoop: [Int] { state.withLock { $0.workers.map { $0.load.load(ordering: .relaxed) } } }

    /// Graceful shutdown: stop accepting, let in-flight requests finish
    /// within `drainTimeout` (the configuration's when nil), close idle
    /// connections. Returns at once; use `waitUntilStopped()` to wait.
    public func shutdown(drainTimeout: Duration? = nil) {
        let workers: [LoopWorker]? = state.withLock {
            guard $0.started, !$0.shuttingDown else { return nil }
            $0.shuttingDown = true
            return $0.workers
        }
        guard let workers else { return }
        logger.info("shutting down", metadata: ["open_connections": "\(openConnections)"])
        for worker in workers { worker.loop.execute { worker.beginDrain() } }
        let microseconds = max(.zero, drainTimeout ?? configuration.drainTimeout).wholeNanoseconds / 1000
        _ = try? Self.spawn(name: "http-drain", detached: true) {
            usleep(useconds_t(clamping: microseconds))
            for worker in workers { worker.loop.execute { worker.closeAll() } }
        }
    }

    /// Blocks the calling thread until every loop has stopped.
    public func waitUntilStopped() {
        guard state.withLock({ $0.started }) else { return }
        running.wait()
    }

    /// Suspends until every loop has stopped, without blocking a Swift
    /// concurrency thread.
    public func waitUntilStopped() async {
        guard state.withLock({ $0.started }) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            running.notify(queue: .global()) { continuation.resume() }
        }
    }

    /// Starts a thread for the server (a loop, the executor), failing as a socket call does.
    @discardableResult
    static func spawn(name: String, detached: Bool = false, _ body: @escaping @Sendable () -> Void) throws -> pthread_t {
        do {
            return try startThread(name: name, detached: detached, body)
        } catch {
            throw SocketError.system("pthread_create", error.code)
        }
    }
}

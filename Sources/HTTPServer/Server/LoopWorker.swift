import Durations
import CLinuxSys
import Glibc
import Logging
import Synchronization
import Locking

/// What one event loop serves: the server's listening sockets (shared by all
/// loops), the connections this loop accepted, and the per-loop response
/// encoder with its cached `Date`.
final class LoopWorker: @unchecked Sendable {
    let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let router: Router
    var encoder = ResponseEncoder()
    /// Read buffers for connections with bytes to parse; idle ones hold none.
    let inputPool = BufferPool(size: 4096)
    /// An output buffer for the next connection that answers: connections
    /// are served one at a time, so one spare spares most allocations.
    var spareOutput: [UInt8] = []
    private let shared: ServerShared
    private var listeners: [Listener] = []
    private var connections: [Int32: Connection] = [:]
    private var draining = false
    /// Connections this loop serves or has been handed, read by the others.
    let load = Atomic<Int>(0)
    /// Every loop of the server, this one included; set before any runs.
    var siblings: [LoopWorker] = []

    let timeouts: ConnectionState.Timeouts

    init(loop: EventLoop, configuration: HTTPServerConfiguration, router: Router, shared: ServerShared) {
        self.loop = loop
        self.configuration = configuration
        self.router = router
        self.shared = shared
        func ns(_ duration: Duration) -> UInt64 { UInt64(max(1_000_000, duration.wholeNanoseconds)) }  // at least 1 ms
        timeouts = ConnectionState.Timeouts(
            header: ns(configuration.headerReadTimeout), body: ns(configuration.bodyReadTimeout),
            idle: ns(configuration.idleTimeout), write: ns(configuration.writeTimeout))
    }

    /// Polls a listening socket that every loop of the server shares.
    /// EPOLLEXCLUSIVE wakes one loop per arriving connection, preferring a
    /// loop that is waiting over one that is busy, instead of all of them.
    func addListener(_ socket: ListeningSocket, tls: TLSContext?) {
        let listener = Listener(socket: socket, tls: tls, worker: self)
        listeners.append(listener)
        _ = loop.register(socket.fd, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue, handler: listener)
    }

    fileprivate func accept(from listener: Listener) {
        // Bounded so one busy listener cannot starve this loop's connections.
        for _ in 0..<64 {
            let fd: Int32, peer: SocketAddress
            switch Socket.accept(listener.socket.fd) {
            case .connection(let accepted, let from): (fd, peer) = (accepted, from)
            case .none: return
            case .failed: continue
            case .outOfResources(let code):
                pause(listener, errno: code)
                return
            }
            guard shared.reserveConnection(limit: configuration.maxConnections) else {
                Self.refuse(fd, status: "503 Service Unavailable")
                continue
            }
            guard shared.reserveSource(peer.host, limit: configuration.maxConnectionsPerSource) else {
                shared.releaseConnection()
                Self.refuse(fd, status: "429 Too Many Requests")
                continue
            }
            // EPOLLEXCLUSIVE wakes whichever loop waits first, often the same
            // one for a whole burst of connections: hand each to the loop
            // with the fewest, so keep-alive clients spread over the cores.
            let target = leastLoaded()
            target.load.wrappingAdd(1, ordering: .relaxed)
            let tls = listener.tls
            if target !== self, target.loop.execute({ target.adopt(fd: fd, peer: peer, tls: tls) }) { continue }
            if target !== self {  // that loop has ended (shutdown): ours drains it
                target.load.wrappingSubtract(1, ordering: .relaxed)
                load.wrappingAdd(1, ordering: .relaxed)
            }
            adopt(fd: fd, peer: peer, tls: tls)
        }
    }

    /// What this loop's connections hold in buffers (loop thread only).
    func connectionBufferBytes() -> Int {
        connections.values.reduce(0) { $0 + $1.bufferBytes }
    }

    /// This loop unless another serves fewer connections.
    private func leastLoaded() -> LoopWorker {
        var best = self
        var fewest = load.load(ordering: .relaxed)
        for sibling in siblings where sibling !== self {
            let count = sibling.load.load(ordering: .relaxed)
            if count < fewest { (best, fewest) = (sibling, count) }
        }
        return best
    }

    /// Serves an accepted connection on this loop (its thread).
    private func adopt(fd: Int32, peer: SocketAddress, tls: TLSContext?) {
        let connection = Connection(fd: fd, peer: peer, worker: self, tls: tls)
        guard !draining, connection.start() else {
            Glibc.close(fd)
            load.wrappingSubtract(1, ordering: .relaxed)
            shared.releaseConnection()
            shared.releaseSource(peer.host, limit: configuration.maxConnectionsPerSource)
            return
        }
        connections[fd] = connection
    }

    /// Out of descriptors: the pending connection cannot be taken, and the
    /// listener stays readable, so polling it would spin. Stop polling it
    /// for 250 ms; connections closing meanwhile free descriptors.
    private func pause(_ listener: Listener, errno code: Int32) {
        guard !listener.paused else { return }
        listener.paused = true
        loop.unregister(listener.socket.fd)
        loop.schedule(listener, at: MonotonicClock.nanoseconds() &+ 250_000_000)
        shared.reportAcceptPause(errno: code)
    }

    fileprivate func resume(_ listener: Listener) {
        guard listener.paused, !draining else { return }
        listener.paused = false
        _ = loop.register(listener.socket.fd, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue, handler: listener)
    }

    /// Over a connection limit: a short answer, best effort, then close.
    private static func refuse(_ fd: Int32, status: String) {
        let answer = "HTTP/1.1 \(status)\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
        _ = answer.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        Glibc.close(fd)
    }

    func connectionClosed(_ connection: Connection) {
        connections[connection.fd] = nil
        load.wrappingSubtract(1, ordering: .relaxed)
        shared.releaseConnection()
        shared.releaseSource(connection.peer.host, limit: configuration.maxConnectionsPerSource)
        if draining && connections.isEmpty { loop.stop() }
    }

    /// Stops accepting; closes idle connections; the loop stops once the
    /// rest have answered.
    func beginDrain() {
        draining = true
        for listener in listeners {
            if listener.paused { loop.cancel(listener) } else { loop.unregister(listener.socket.fd) }
            listener.socket.release()
        }
        listeners.removeAll()
        for connection in Array(connections.values) { connection.drain() }
        if connections.isEmpty { loop.stop() }
    }

    /// Drain timeout expired: close whatever is left.
    func closeAll() {
        for connection in Array(connections.values) { connection.close() }
        loop.stop()
    }
}

/// A listening socket registered with one loop.
private final class Listener: FileEventHandler, LoopTimer {
    let socket: ListeningSocket
    let tls: TLSContext?
    unowned let worker: LoopWorker
    /// Not polled for now: accept ran out of descriptors.
    var paused = false
    var timerSlot: Int?

    init(socket: ListeningSocket, tls: TLSContext?, worker: LoopWorker) {
        self.socket = socket
        self.tls = tls
        self.worker = worker
    }

    func handleEvents(_ events: UInt32) { worker.accept(from: self) }

    func timerFired(now: UInt64) { worker.resume(self) }
}

/// One listening socket polled by several loops. It is closed when the last
/// loop has stopped polling it, so no loop accepts on a closed (or reused)
/// descriptor number.
final class ListeningSocket: Sendable {
    let fd: Int32
    private let users: Atomic<Int>

    init(fd: Int32, users: Int) {
        self.fd = fd
        self.users = Atomic(users)
    }

    func release() {
        if users.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 { Glibc.close(fd) }
    }
}

/// State shared by all loops of one server.
final class ServerShared: Sendable {
    private let openConnections = Atomic<Int>(0)
    private let perSource = Locked<[String: Int]>([:])
    private let acceptPauses = Locked<(count: Int, lastReport: UInt64)>((0, 0))
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Counts a connection from `source` unless it already holds `limit`.
    func reserveSource(_ source: String, limit: Int?) -> Bool {
        guard let limit else { return true }
        return perSource.withLock { counts in
            let held = counts[source, default: 0]
            guard held < limit else { return false }
            counts[source] = held + 1
            return true
        }
    }

    func releaseSource(_ source: String, limit: Int?) {
        guard limit != nil else { return }
        perSource.withLock { counts in
            let held = counts[source, default: 0]
            counts[source] = held > 1 ? held - 1 : nil
        }
    }

    /// Logs accept pauses at most every 10 s, with how many there were.
    func reportAcceptPause(errno code: Int32) {
        let now = MonotonicClock.nanoseconds()
        let pauses: Int? = acceptPauses.withLock { state in
            state.count += 1
            guard state.lastReport == 0 || now &- state.lastReport >= 10_000_000_000 else { return nil }
            defer { state = (0, now) }
            return state.count
        }
        guard let pauses else { return }
        logger.warning("accept paused: out of file descriptors; raise the open-files limit or lower max_connections",
                       metadata: ["error": "\(String(cString: strerror(code)))", "pauses": "\(pauses)"])
    }

    var connectionCount: Int { openConnections.load(ordering: .relaxed) }

    func reserveConnection(limit: Int) -> Bool {
        let now = openConnections.wrappingAdd(1, ordering: .relaxed).newValue
        if now > limit {
            openConnections.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseConnection() { openConnections.wrappingSubtract(1, ordering: .relaxed) }
}

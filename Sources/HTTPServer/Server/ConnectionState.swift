/// The HTTP/1.1 rules of one connection as a value, with no sockets: which
/// phase it is in, whether the answer may keep it open, and which deadline
/// runs. `Connection` does the reading, parsing and writing and asks this
/// what follows; the transitions are tested on their own
/// (`ConnectionStateTests`).
struct ConnectionState: Equatable {
    enum Phase: Equatable { case handshake, head, body, handling, lingering, closed }

    /// How long each wait may last, in monotonic nanoseconds.
    struct Timeouts: Equatable {
        var header: UInt64
        var body: UInt64
        var idle: UInt64
        var write: UInt64
        /// How long a closing connection drains what the client still sends.
        var linger: UInt64 = 2_000_000_000
    }

    /// What a deadline's passing asks of the connection.
    enum Expiry: Equatable {
        case nothing
        /// The client was sending a request too slowly: answer 408 and close.
        case requestTimedOut
        case close
    }

    private(set) var phase: Phase
    let timeouts: Timeouts
    /// A byte of the next request has arrived (the header timer runs).
    private(set) var requestStarted = false
    private(set) var servedAny = false
    private(set) var draining = false
    private(set) var peerClosed = false
    /// The answer being written is the last: linger once it is out.
    private(set) var closeAfterWrite = false
    /// Header, body, idle or lingering deadline; 0 = none.
    private(set) var readDeadline: UInt64 = 0
    /// When a blocked write gives up; 0 = none.
    private(set) var writeDeadline: UInt64 = 0

    init(tls: Bool, timeouts: Timeouts, now: UInt64) {
        phase = tls ? .handshake : .head
        self.timeouts = timeouts
        readDeadline = now &+ timeouts.header
    }

    /// The earlier of the two deadlines, if any runs.
    var nextDeadline: UInt64? {
        switch (readDeadline, writeDeadline) {
        case (0, 0): nil
        case (let read, 0): read
        case (0, let write): write
        case (let read, let write): min(read, write)
        }
    }

    /// Nothing is in flight: shutdown may close it without losing an answer.
    var isIdle: Bool { phase == .handshake || (phase == .head && !requestStarted) }

    // MARK: requests

    mutating func handshakeDone() { if phase == .handshake { phase = .head } }

    /// No TLS session or a plaintext client on a TLS port: served as plain
    /// HTTP just long enough to say so.
    mutating func fallBackToPlaintext() { phase = .head }

    /// Between requests with no timer running: `inputEmpty` would start one
    /// (asked first, so the clock is read only when needed).
    var awaitsIdleTimer: Bool { phase == .head && !requestStarted && readDeadline == 0 }

    /// The read buffer holds no byte of a next request.
    mutating func inputEmpty(now: UInt64) {
        guard awaitsIdleTimer else { return }
        readDeadline = now &+ (servedAny ? timeouts.idle : timeouts.header)
    }

    /// A byte of a request arrived: the header timer starts, once.
    mutating func requestBytesArrived(now: UInt64) {
        guard phase == .head, !requestStarted else { return }
        requestStarted = true
        readDeadline = now &+ timeouts.header
    }

    /// The head declared a body: read it within the body timeout.
    mutating func bodyExpected(now: UInt64) {
        phase = .body
        readDeadline = now &+ timeouts.body
    }

    /// The request is whole and goes to its handler; an async one keeps the
    /// connection `handling` until its answer comes back.
    mutating func dispatched(async: Bool) {
        requestStarted = false
        readDeadline = 0
        servedAny = true
        if async { phase = .handling }
    }

    /// How the answer's `Connection` header reads.
    enum Persistence: Equatable { case keepAlive, close }

    /// An answer is being encoded. It keeps the connection open only if the
    /// request asked for that, the peer still reads and the server is not
    /// shutting down.
    mutating func answering(requestWantsKeepAlive: Bool) -> Persistence {
        let keepAlive = requestWantsKeepAlive && !draining && !peerClosed
        if keepAlive {
            phase = .head
            return .keepAlive
        }
        closeAfterWrite = true
        phase = .lingering
        return .close
    }

    // MARK: writing

    mutating func writeBlocked(now: UInt64) {
        if writeDeadline == 0 { writeDeadline = now &+ timeouts.write }
    }

    mutating func wrote() { writeDeadline = 0 }

    /// Everything queued is written. True when the connection should now
    /// half-close and linger, draining what the client still sends.
    mutating func outputFlushed(now: UInt64) -> Bool {
        writeDeadline = 0
        guard closeAfterWrite else { return false }
        closeAfterWrite = false
        phase = .lingering
        readDeadline = now &+ timeouts.linger
        return true
    }

    // MARK: the peer and the server

    /// The client closed its side (or the read failed).
    mutating func peerHalfClosed() { peerClosed = true }

    /// The peer is gone and nothing is left to answer or write: close now.
    /// A running handler's answer is still written first.
    func closesNow(outputPending: Bool) -> Bool {
        peerClosed && phase != .closed && phase != .handling && !outputPending
    }

    /// Shutdown began. True when the connection is idle and closes now; a
    /// busy one closes after its answer (which says `Connection: close`).
    mutating func drain(outputPending: Bool) -> Bool {
        draining = true
        return phase == .handshake || (phase == .head && !requestStarted && !outputPending)
    }

    mutating func closed() {
        phase = .closed
        readDeadline = 0
        writeDeadline = 0
    }

    // MARK: deadlines

    /// A deadline may have passed at `now`. Whatever deadline is left
    /// afterwards is still ahead.
    mutating func expire(now: UInt64) -> Expiry {
        if writeDeadline != 0 && now >= writeDeadline { return .close }
        guard readDeadline != 0 && now >= readDeadline else { return .nothing }
        readDeadline = 0
        switch phase {
        case .head where requestStarted, .body:
            return .requestTimedOut
        case .handling:
            return .nothing  // the handler's answer starts the next timer
        default:
            return .close
        }
    }
}

import CLinuxSys
import Glibc

/// One client connection: reads, parses, dispatches and writes, all on its
/// event loop's thread (the only thread that touches it, hence
/// `@unchecked Sendable`: async handlers hand their answer back through
/// `EventLoop.execute`).
final class Connection: FileEventHandler, LoopTimer, RoundEndHandler, @unchecked Sendable {
    let fd: Int32
    let peer: SocketAddress
    unowned let worker: LoopWorker
    var tls: TLSSession?
    /// Phase, keep-alive and deadlines: the protocol's rules, kept apart
    /// from the I/O here. The loop wakes the connection at its next deadline.
    var state: ConnectionState {
        didSet { timerMayBeLate() }
    }
    /// When the loop's timer for this connection fires; nil = none pending.
    /// It may be earlier than the next deadline (which then waits for it),
    /// never later.
    private var timerAt: UInt64?
    var phase: ConnectionState.Phase { state.phase }
    var input: InputBuffer
    var head = RequestHead()
    /// The request whose body is being read or whose handler is running.
    var current: PendingRequest?
    var body: [UInt8] = []
    var remainingBody = 0
    var chunkDecoder: ChunkedDecoder?

    var output: [UInt8] = []
    var outputSent = 0
    var tlsWantsWrite = false
    private var interest: UInt32 = 0
    var timerSlot: Int?

    init(fd: Int32, peer: SocketAddress, worker: LoopWorker, tls: TLSContext?) {
        self.fd = fd
        self.peer = peer
        self.worker = worker
        let limits = worker.configuration.limits
        input = InputBuffer(maxCapacity: limits.maxHeaderBytes + 16 * 1024)
        state = ConnectionState(tls: tls != nil, timeouts: worker.timeouts, now: MonotonicClock.nanoseconds())
        if let tls {
            // No session (OpenSSL out of memory): `start` refuses the
            // connection; it is never served in plaintext on a TLS port.
            self.tls = TLSSession(context: tls, fd: fd)
            if self.tls == nil { state.closed() }
        }
    }

    deinit { input.storage?.deallocate() }

    /// Memory this connection holds in buffers.
    var bufferBytes: Int { (input.storage?.count ?? 0) + output.capacity + body.capacity }

    /// Registers with the loop; false when the connection cannot be served.
    func start() -> Bool {
        guard phase != .closed else { return false }
        interest = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        guard worker.loop.register(fd, events: interest, handler: self) else { return false }
        rescheduleTimer()
        return true
    }

    // MARK: events

    func handleEvents(_ events: UInt32) {
        if phase == .closed { return }
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 && events & EPOLLIN.rawValue == 0 {
            close()
            return
        }
        if phase == .handshake {
            continueHandshake()
            if phase == .handshake || phase == .closed { return }
        }
        if events & EPOLLOUT.rawValue != 0 && !output.isEmpty {
            flush()
            // Pipelined requests that waited behind the backlog: serve them
            // now, not when (if ever) the client sends more.
            if phase == .head && output.isEmpty && !input.isEmpty { pump() }
        }
        if phase == .closed { return }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 || tlsWantsWrite { readAvailable() }
        readPendingTLS()
        if phase != .closed { updateInterest() }
    }

    private func continueHandshake() {
        guard let tls else { return }
        if !tls.handshakeDone && looksLikePlainHTTP() {
            rejectPlaintextOnTLSPort()
            return
        }
        switch tls.handshake() {
        case .done:
            state.handshakeDone()
        case .wouldBlock(let wantWrite):
            setInterest(wantWrite ? EPOLLOUT.rawValue : EPOLLIN.rawValue)
        case .closed, .failed:
            close()
        }
    }

    /// A TLS ClientHello starts with 0x16; an HTTP method starts with a letter.
    private func looksLikePlainHTTP() -> Bool {
        var first: UInt8 = 0
        let n = recv(fd, &first, 1, Int32(MSG_PEEK))
        return n == 1 && first >= 0x41 && first <= 0x5A
    }

    private func rejectPlaintextOnTLSPort() {
        tls = nil
        state.fallBackToPlaintext()
        current = nil
        respondAndClose(.error(.badRequest, code: "plain_http_on_tls_port",
                               message: "this port speaks HTTPS; use https://"))
        flush()
        if phase != .closed { updateInterest() }
    }

    // MARK: reading

    private func readAvailable() {
        if phase == .lingering {
            discardInput()
            return
        }
        if state.peerClosed { return }
        tlsWantsWrite = false
        var gotBytes = false
        while true {
            let space = input.writableSpace(from: worker.inputPool)
            if space.isEmpty {
                guard gotBytes else { break }
                // Full: serve what is buffered, then read on if room was made
                // and OpenSSL still holds decrypted bytes epoll cannot report.
                gotBytes = false
                pump()
                if phase == .closed || input.isFull || tls?.hasBufferedInput != true { break }
                continue
            }
            switch readSome(into: space) {
            case .done(let n):
                input.didWrite(n)
                gotBytes = true
                if tls?.hasBufferedInput == true { continue }
            case .wouldBlock(let wantWrite):
                tlsWantsWrite = wantWrite
            case .closed, .failed:
                state.peerHalfClosed()
            }
            break
        }
        if gotBytes { pump() }
        if state.closesNow(outputPending: !output.isEmpty) { close() }
    }

    /// Decrypted bytes OpenSSL holds are invisible to epoll: after anything
    /// that consumed input, read them if there is room, or the connection
    /// would wait for socket activity that may never come.
    func readPendingTLS() {
        guard phase != .closed, tls?.hasBufferedInput == true, !input.isFull, !state.peerClosed else { return }
        readAvailable()
    }

    private func readSome(into space: UnsafeMutableRawBufferPointer) -> IOResult {
        if let tls { return tls.read(into: space) }
        let n = Glibc.read(fd, space.baseAddress, space.count)
        if n > 0 { return .done(n) }
        if n == 0 { return .closed }
        return errno == EAGAIN || errno == EINTR ? .wouldBlock(wantWrite: false) : .failed
    }

    private func discardInput() {
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let n = withUnsafeMutableBytes(of: &scratch) { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { close() }
    }

    // MARK: writing

    func roundEnded() {
        if phase != .closed { answered() }
    }

    /// Processes buffered requests and writes what they produced, until
    /// nothing more can move without new input or socket space.
    func pump() {
        while phase != .closed {
            let backlogged = processInput()
            flush()
            // Pipelined requests wait behind a large unsent answer: once it
            // is out, serve them; otherwise only new input can help.
            guard backlogged, output.isEmpty, phase == .head else { break }
        }
    }

    func flush() {
        while outputSent < output.count {
            let result = output.withUnsafeBytes { all in
                writeSome(UnsafeRawBufferPointer(rebasing: all[outputSent...]))
            }
            switch result {
            case .done(let n):
                outputSent += n
                state.wrote()
            case .wouldBlock:
                state.writeBlocked(now: MonotonicClock.nanoseconds())
                return
            case .closed, .failed:
                close()
                return
            }
        }
        output.removeAll(keepingCapacity: true)
        // The loop keeps one spare output buffer; an idle connection none.
        if worker.spareOutput.capacity == 0 && output.capacity <= 1 << 20 {
            swap(&output, &worker.spareOutput)
        } else {
            output = []
        }
        outputSent = 0
        if state.outputFlushed(now: MonotonicClock.nanoseconds()) { beginLingeringClose() }
    }

    private func writeSome(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        if let tls { return tls.write(bytes) }
        let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        if n >= 0 { return .done(n) }
        return errno == EAGAIN || errno == EINTR ? .wouldBlock(wantWrite: true) : .failed
    }

    // MARK: interest and closing

    func updateInterest() {
        input.releaseIfEmpty(to: worker.inputPool)
        var wanted: UInt32 = 0
        let backlogged = output.count - outputSent > 64 * 1024
        // A half-close is only news when the connection would read: while
        // it does not (full buffer, backlog), level-triggered EPOLLRDHUP
        // would wake the loop again and again for nothing.
        if !state.peerClosed && !backlogged && !input.isFull { wanted |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if outputSent < output.count || tlsWantsWrite { wanted |= EPOLLOUT.rawValue }
        setInterest(wanted)
    }

    private func setInterest(_ wanted: UInt32) {
        guard wanted != interest else { return }
        interest = wanted
        worker.loop.modify(fd, events: wanted)
    }

    /// Half-closes and drains what the client still sends, so the last
    /// response is not destroyed by a reset before the client reads it.
    private func beginLingeringClose() {
        tls?.shutdown()
        Glibc.shutdown(fd, Int32(SHUT_WR))
        if state.peerClosed { close() }
    }

    func close() {
        guard phase != .closed else { return }
        state.closed()
        worker.loop.cancel(self)
        worker.loop.unregister(fd)
        input.release(to: worker.inputPool)
        output = []
        tls = nil
        Glibc.close(fd)
        worker.connectionClosed(self)
    }

    // MARK: timeouts

    /// The loop wakes this connection at its next deadline.
    private func rescheduleTimer() {
        guard phase != .closed else { return }
        timerAt = state.nextDeadline
        if let due = timerAt { worker.loop.schedule(self, at: due) } else { worker.loop.cancel(self) }
    }

    /// Moves the timer only when a deadline comes before it. A later or
    /// cleared deadline leaves it be: it fires, finds nothing due and waits
    /// for what is left. A keep-alive request moves its deadline three times
    /// (header, none while handled, idle); this keeps that to one heap
    /// operation, or none.
    private func timerMayBeLate() {
        guard let due = state.nextDeadline, timerAt.map({ due < $0 }) ?? true, phase != .closed else { return }
        timerAt = due
        worker.loop.schedule(self, at: due)
    }

    /// Enforces the header, body, idle, lingering and write timeouts.
    func timerFired(now: UInt64) {
        timerAt = nil
        switch state.expire(now: now) {
        case .nothing:
            break
        case .requestTimedOut:
            respondAndClose(.error(.requestTimeout, code: "timeout", message: "request not received in time"))
            flush()
            if phase != .closed { updateInterest() }
        case .close:
            close()
        }
        // Popped from the heap: wait for whatever deadline is left (ahead).
        rescheduleTimer()
    }

    /// Shutdown: idle connections close now, busy ones after their answer.
    func drain() {
        if state.drain(outputPending: !output.isEmpty) { close() }
    }
}

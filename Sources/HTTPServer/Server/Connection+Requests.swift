import Glibc

/// The parts of a request kept while its body arrives or its handler runs.
struct PendingRequest {
    var request: HTTPRequest
    var keepAlive: Bool
    var isHead: Bool
}

extension Connection {
    /// Parses and answers buffered requests in order. Returns true when it
    /// stopped only because too much output is waiting to be written.
    func processInput() -> Bool {
        while true {
            switch phase {
            case .head:
                if input.isEmpty {
                    if state.awaitsIdleTimer { state.inputEmpty(now: MonotonicClock.nanoseconds()) }
                    return false
                }
                if output.count - outputSent > 64 * 1024 { return true }
                if !state.requestStarted { state.requestBytesArrived(now: MonotonicClock.nanoseconds()) }
                switch RequestHeadParser.parse(input.readable, limits: worker.configuration.limits, into: &head) {
                case .incomplete:
                    return false
                case .invalid(let error):
                    reject(error)
                    return false
                case .complete:
                    beginRequest()
                }
            case .body:
                if !readBody() { return false }
            default:
                return false
            }
        }
    }

    private func beginRequest() {
        let bytes = input.readable
        let target = UnsafeRawBufferPointer(rebasing: bytes[head.target.start..<head.target.end])
        let parts = RequestTarget(target)
        let request = HTTPRequest(
            method: HTTPMethod(bytes: UnsafeRawBufferPointer(rebasing: bytes[head.method.start..<head.method.end])),
            path: parts.path, query: parts.query, version: head.version,
            headers: HTTPHeaders(head: Array(UnsafeRawBufferPointer(rebasing: bytes[0..<head.headLength])),
                                 fields: head.headers),
            remoteAddress: peer, isSecure: tls != nil)
        current = PendingRequest(request: request, keepAlive: head.keepAlive, isHead: request.method == .head)
        input.consume(head.headLength)
        switch head.framing {
        case .none, .contentLength(0):
            dispatch()
        case .contentLength(let length):
            remainingBody = length
            // No memory on credit: the body grows as its bytes arrive, not
            // from what the client declared.
            body = []
            startBody(expected: length)
        case .chunked:
            chunkDecoder = ChunkedDecoder(maxBodyBytes: worker.configuration.limits.maxBodyBytes)
            body = []
            startBody(expected: 1)
        }
    }

    private func startBody(expected: Int) {
        state.bodyExpected(now: MonotonicClock.nanoseconds())
        // The client waits for this before sending the body (RFC 9110 §10.1.1).
        if head.expectContinue && input.count < expected {
            output.append(contentsOf: ResponseEncoder.continueLine)
        }
    }

    /// Moves body bytes out of the read buffer; true once the body is whole
    /// and the request dispatched.
    private func readBody() -> Bool {
        if var decoder = chunkDecoder {
            let result = decoder.decode(input.readable, into: &body)
            chunkDecoder = decoder
            switch result {
            case .needMore(let consumed):
                input.consume(consumed)
                return false
            case .done(let consumed):
                input.consume(consumed)
                chunkDecoder = nil
                dispatch()
                return true
            case .invalid(let error):
                chunkDecoder = nil
                reject(error)
                return false
            }
        }
        let take = min(remainingBody, input.count)
        body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.readable[..<take]))
        input.consume(take)
        remainingBody -= take
        guard remainingBody == 0 else { return false }
        dispatch()
        return true
    }

    private func dispatch() {
        guard var pending = current else { return }
        if !body.isEmpty {
            pending.request.body = body
            body = []
        }
        current = pending
        let route = worker.router.resolve(pending.request.method, pending.request.path)
        switch route {
        case .found(.async), .found(.nonBlocking): state.dispatched(async: true)
        default: state.dispatched(async: false)
        }
        switch route {
        case .found(.immediate(let handler)):
            respond(handler(pending.request))
        case .found(.async(let handler)):
            let request = pending.request
            let loop = worker.loop
            Task(executorPreference: HandlerExecutor.shared) {
                let response = await handler(request)
                loop.execute { self.complete(response) }
            }
        case .found(.nonBlocking(let handler)):
            let request = pending.request
            let loop = worker.loop
            Task(executorPreference: loop) {
                let response = await handler(request)
                // Still on the loop's thread unless the loop has ended.
                if loop.isCurrent { self.complete(response) } else { loop.execute { self.complete(response) } }
            }
        case let refused:
            respond(Router.refusal(refused, method: pending.request.method))
        }
    }

    /// An async handler's answer, back on the loop thread.
    private func complete(_ response: HTTPResponse) {
        guard phase == .handling else { return }
        respond(response)
        if worker.loop.runningJobs {
            worker.loop.afterJobs(self)
            return
        }
        answered()
    }

    /// Writes the answer and goes on with the connection.
    func answered() {
        pump()
        readPendingTLS()
        if phase != .closed {
            if state.closesNow(outputPending: !output.isEmpty) { close() } else { updateInterest() }
        }
    }

    /// Encodes the answer to `current`, keeping the connection open if both
    /// sides want that.
    func respond(_ response: HTTPResponse) {
        let pending = current
        current = nil
        let header: ResponseEncoder.ConnectionHeader
        switch state.answering(requestWantsKeepAlive: pending?.keepAlive ?? false) {
        case .keepAlive: header = pending?.request.version == .http1_0 ? .keepAlive : .none
        case .close: header = .close
        }
        if output.capacity == 0 { swap(&output, &worker.spareOutput) }
        worker.encoder.encode(response, omitBody: pending?.isHead ?? false, connection: header, into: &output)
    }

    /// Answers and closes: after a framing error nothing more can be trusted.
    func respondAndClose(_ response: HTTPResponse) {
        if var pending = current {
            pending.keepAlive = false
            current = pending
        }
        respond(response)  // never keeps alive: the request's wish was cleared
        input.clear()
    }

    private func reject(_ error: HTTPParseError) {
        let codes: [Int: String] = [
            400: "bad_request", 413: "payload_too_large", 414: "uri_too_long",
            431: "headers_too_large", 501: "not_implemented", 505: "version_not_supported",
        ]
        respondAndClose(.error(HTTPStatus(error.statusCode), code: codes[error.statusCode] ?? "bad_request",
                               message: error.reason))
    }
}

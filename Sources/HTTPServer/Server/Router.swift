/// How a route answers.
public enum RouteHandler: Sendable {
    /// Runs on the event loop thread itself: for constant-time answers such
    /// as health checks. It must never block or do I/O.
    case immediate(@Sendable (HTTPRequest) -> HTTPResponse)
    /// Runs as a Swift task on the handler executor's threads; the loop
    /// keeps serving other connections. For any handler that may block a
    /// thread (merchant code, file I/O, locks held long).
    case async(@Sendable (HTTPRequest) async -> HTTPResponse)
    /// Runs as a Swift task on the event loop's own thread, between its
    /// rounds of socket events: no hop to another thread and back. Only for
    /// handlers that compute briefly and suspend rather than block (their
    /// awaits resume through the loop): a blocking call here stalls every
    /// connection of the loop.
    case nonBlocking(@Sendable (HTTPRequest) async -> HTTPResponse)
}

/// Exact-path routing with per-method handlers. A method no route
/// implements is 501 (RFC 9110 §15.6.2); an unknown path is 404; a known
/// path with another method is 405 with an `Allow` header. `HEAD` is
/// answered by the `GET` handler without a body.
public struct Router: Sendable {
    fileprivate var routes: [String: [HTTPMethod: RouteHandler]] = [:]
    /// Every method some route answers (HEAD wherever GET is).
    private var implemented: Set<HTTPMethod> = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ path: String, _ handler: RouteHandler) {
        routes[path, default: [:]][method] = handler
        implemented.insert(method)
        if method == .get { implemented.insert(.head) }
    }

    public mutating func get(_ path: String, _ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        add(.get, path, .async(handler))
    }

    public mutating func post(_ path: String, _ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        add(.post, path, .async(handler))
    }

    enum Resolution {
        case found(RouteHandler)
        case methodNotAllowed(allow: String)
        case notFound
        case notImplemented
    }

    func resolve(_ method: HTTPMethod, _ path: String) -> Resolution {
        guard implemented.contains(method) else { return .notImplemented }
        guard let byMethod = routes[path] else { return .notFound }
        if let handler = byMethod[method] ?? (method == .head ? byMethod[.get] : nil) {
            return .found(handler)
        }
        var allowed = byMethod.keys.map(\.description)
        if byMethod[.get] != nil { allowed.append("HEAD") }
        return .methodNotAllowed(allow: allowed.sorted().joined(separator: ", "))
    }

    static let notFound = HTTPResponse.error(.notFound, code: "not_found", message: "no such route")

    /// Answers `request` as a server with these routes would, without a
    /// socket: for in-process tests.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch resolve(request.method, request.path) {
        case .found(.immediate(let answer)): answer(request)
        case .found(.async(let answer)), .found(.nonBlocking(let answer)): await answer(request)
        case let refused: Self.refusal(refused, method: request.method)
        }
    }

    /// The answer to a request `resolve` did not find a handler for.
    static func refusal(_ resolution: Resolution, method: HTTPMethod) -> HTTPResponse {
        switch resolution {
        case .methodNotAllowed(let allow):
            var response = HTTPResponse.error(.methodNotAllowed, code: "method_not_allowed",
                                              message: "\(method) is not allowed here")
            response.headers.append(("Allow", allow))
            return response
        case .notImplemented:
            return .error(HTTPStatus(501), code: "not_implemented", message: "no route implements \(method)")
        case .notFound, .found:
            return notFound
        }
    }
}

extension Router {
    /// Puts `check` in front of every handler on `paths`: when it returns a
    /// response, that is the answer and the handler does not run. For
    /// immediate routes the check runs on the event loop: it must be quick
    /// and never block.
    public mutating func guardRoutes(_ paths: Set<String>, with check: @escaping @Sendable (HTTPRequest) -> HTTPResponse?) {
        for path in paths {
            guard let byMethod = routes[path] else { continue }
            for (method, handler) in byMethod {
                switch handler {
                case .immediate(let answer):
                    routes[path]![method] = .immediate { check($0) ?? answer($0) }
                case .async(let answer):
                    routes[path]![method] = .async { request in
                        if let refusal = check(request) { return refusal }
                        return await answer(request)
                    }
                case .nonBlocking(let answer):
                    routes[path]![method] = .nonBlocking { request in
                        if let refusal = check(request) { return refusal }
                        return await answer(request)
                    }
                }
            }
        }
    }
}


#if canImport(FoundationNetworking)
import Durations
import Foundation
import FoundationNetworking
import HTTPServer
import Webhooks
#endif

/// Delivers requests to a webhook server: over HTTP to a running one, or
/// straight into a ``WebhookPipeline`` in-process (no socket, same answers).
///
/// Every call suspends without blocking a thread, so hundreds can run
/// concurrently from tests on a small thread pool.
public struct WebhookClient: Sendable {
    private enum Transport: Sendable {
        case http(base: URL, session: URLSession)
        case inProcess(WebhookPipeline)
    }

    private let transport: Transport

    /// A client for a running server, e.g. `http://127.0.0.1:8080`.
    /// `timeout` bounds each request.
    public init(baseURL: URL, timeout: Duration = .seconds(60), maxConnections: Int = 32) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout.seconds
        configuration.timeoutIntervalForResource = timeout.seconds
        configuration.httpMaximumConnectionsPerHost = maxConnections
        configuration.urlCache = nil
        transport = .http(base: baseURL, session: URLSession(configuration: configuration))
    }

    /// A client for a server listening on `address`.
    public init(address: SocketAddress, timeout: Duration = .seconds(60)) {
        self.init(baseURL: URL(string: "http://\(address)")!, timeout: timeout)
    }

    /// A client that calls the pipeline directly.
    public init(pipeline: WebhookPipeline) {
        transport = .inProcess(pipeline)
    }

    /// Lets requests in flight finish, then releases the HTTP session (no-op in-process).
    public func close() {
        if case .http(_, let session) = transport { session.finishTasksAndInvalidate() }
    }

    /// Posts a signed callback to its route.
    public func deliver(_ callback: SignedCallback) async throws -> WebhookResponse {
        try await send(callback.request)
    }

    public func get(_ path: String) async throws -> WebhookResponse {
        try await send(TestRequest(method: .get, path: path))
    }

    public func send(_ request: TestRequest) async throws -> WebhookResponse {
        switch transport {
        case .inProcess(let pipeline):
            let response = await pipeline.respond(
                to: HTTPRequest(
                    method: request.method, path: request.path, query: request.query,
                    headers: HTTPHeaders(request.headers.map { ($0.name, $0.value) }), body: request.body))
            return WebhookResponse(status: response.status.code, headers: response.headers, body: response.body)
        case .http(let base, let session):
            var components = URLComponents(url: base, resolvingAgainstBaseURL: false)!
            components.path = request.path
            components.percentEncodedQuery = request.query
            guard let url = components.url else { throw URLError(.badURL) }
            var urlRequest = URLRequest(url: url)
            urlRequest.httpMethod = request.method.description
            for (name, value) in request.headers { urlRequest.addValue(value, forHTTPHeaderField: name) }
            if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
            let (data, response) = try await session.data(for: urlRequest)
            guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
            let headers = http.allHeaderFields.compactMap { key, value -> (name: String, value: String)? in
                guard let name = key as? String, let value = value as? String else { return nil }
                return (name, value)
            }
            return WebhookResponse(status: http.statusCode, headers: headers, body: Array(data))
        }
    }
}

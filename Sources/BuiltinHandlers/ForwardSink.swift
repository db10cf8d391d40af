import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs each event as JSON to an internal URL, signed with Standard
/// Webhooks. A non-2xx answer, a transport error or the timeout is a
/// failure, retried by the pipeline. The event id doubles as `webhook-id`,
/// so a receiver can de-duplicate retries.
public struct ForwardSink: EventSink {
    public let name: String
    private let url: URL
    private let signer: StandardWebhooksSigner
    private let timeout: Duration
    private let session: URLSession

    public init(name: String = "forward", url: String, secret: String, timeout: Duration) throws(HandlerFailure) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme) else {
            throw HandlerFailure("forward url is not an http(s) URL: \(url)")
        }
        self.name = name
        self.url = parsed
        self.signer = try StandardWebhooksSigner(secret: secret)
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Self.seconds(timeout)
        configuration.timeoutIntervalForResource = Self.seconds(timeout)
        session = URLSession(configuration: configuration)
    }

    public func deliver(_ event: EventEnvelope) async throws {
        let body = event.json()
        var request = URLRequest(url: url, timeoutInterval: Self.seconds(timeout))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("trustpay-webhooks", forHTTPHeaderField: "User-Agent")
        let timestamp = Int(Date().timeIntervalSince1970)
        for (header, value) in signer.headers(id: event.eventID, timestamp: timestamp, body: body) {
            request.setValue(value, forHTTPHeaderField: header)
        }
        request.httpBody = Data(body)
        let response: URLResponse
        do {
            (_, response) = try await session.data(for: request)
        } catch {
            throw HandlerFailure("forward to \(url.absoluteString) failed: \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw HandlerFailure("forward to \(url.absoluteString) answered \(status)")
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

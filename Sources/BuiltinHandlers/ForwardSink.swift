import AsyncHTTPClient
import Durations
import Foundation
import NIOCore

/// POSTs each event as JSON to an internal URL, signed with Standard
/// Webhooks. A non-2xx answer, a transport error or the timeout is a
/// failure, retried by the pipeline. The event id doubles as `webhook-id`,
/// so a receiver can de-duplicate retries.
///
/// Goes through AsyncHTTPClient (pooled connections, the system trust store
/// for https), by default one client shared by every forward sink of the
/// process, which lives as long as the process and needs no shutdown.
package struct ForwardSink: EventSink {
    package let name: String
    private let url: String
    private let signer: StandardWebhooksSigner
    private let timeout: Duration
    private let client: HTTPClient

    /// The receiver's answer body is read up to this size and then dropped:
    /// only its status matters.
    static let maxAnswerBytes = 64 * 1024

    package init(
        name: String = "forward", url: String, secret: String, timeout: Duration,
        client: HTTPClient = ForwardSink.sharedClient
    ) throws(SinkFailure) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme) else {
            throw SinkFailure("forward url is not an http(s) URL: \(url)")
        }
        self.name = name
        self.url = url
        self.signer = try StandardWebhooksSigner(secret: secret)
        self.timeout = timeout
        self.client = client
    }

    /// The default client. Unlike `HTTPClient.shared`, a refused connection
    /// fails the attempt at once instead of being retried until the deadline: the pipeline retries the delivery itself,
    /// and a worker should not sit out the whole timeout on a receiver that is down.
    package static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    package func deliver(_ event: EventEnvelope) async throws {
        let body = event.json()
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "trustpay-webhooks")
        let timestamp = Int(Date().timeIntervalSince1970)
        for (header, value) in signer.headers(id: event.eventID, timestamp: timestamp, body: body) {
            request.headers.replaceOrAdd(name: header, value: value)
        }
        request.body = .bytes(body)
        let status: UInt
        do {
            // The deadline covers connecting, sending and the whole answer:
            // the handler timeout bounds the attempt, not each phase of it.
            let response = try await client.execute(request, deadline: .now() + Self.timeAmount(timeout))
            status = response.status.code
            do {
                _ = try await response.body.collect(upTo: Self.maxAnswerBytes)
            } catch is NIOTooManyBytesError {
                // A long answer body is the receiver's business: its status stands.
            }
        } catch {
            throw SinkFailure("forward to \(url) failed: \(Self.describe(error))")
        }
        guard (200..<300).contains(status) else {
            throw SinkFailure("forward to \(url) answered \(status)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .connectTimeout
            || error == .readTimeout
        {
            return "timed out"
        }
        return String(describing: error)
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.wholeNanoseconds)
    }
}

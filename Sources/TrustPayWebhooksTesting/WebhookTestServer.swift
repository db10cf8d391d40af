import Foundation
import HTTPServer
import Inbox
import Webhooks

/// A ``WebhookServer`` started on an ephemeral loopback port for one test,
/// with a client pointed at it.
public final class WebhookTestServer: Sendable {
    public let running: RunningWebhookServer
    public let client: WebhookClient

    /// Starts on `127.0.0.1`, port 0, with one event loop (tests share few
    /// cores); `http` adjusts the rest (limits, timeouts) before the start.
    public init(
        _ server: WebhookServer, eventLoops: Int = 1, http adjust: (inout HTTPServerConfiguration) -> Void = { _ in }
    ) throws {
        var http = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        http.eventLoops = eventLoops
        adjust(&http)
        running = try server.start(http: http)
        client = WebhookClient(address: running.addresses[0])
    }

    public var pipeline: WebhookPipeline { running.pipeline }
    public var store: any IdempotencyStore { running.pipeline.store }

    /// The stored events matching `filter`, for a test's assertions. Reads
    /// through ``InboxAdministration``, which every store of this package
    /// implements; a store without it throws ``StoreError/unavailable(_:)``.
    public func storedEvents(_ filter: EventFilter = EventFilter()) async throws -> [InboxEvent] {
        guard let inbox = store as? any InboxAdministration else {
            throw StoreError.unavailable("the test server's store lists no events (it is not an InboxAdministration)")
        }
        return try await inbox.list(filter)
    }
    public var address: SocketAddress { running.addresses[0] }

    /// A client that skips the socket and calls the pipeline in-process.
    public var inProcessClient: WebhookClient { WebhookClient(pipeline: running.pipeline) }

    public func stop() async {
        client.close()
        running.shutdown(drainTimeout: .seconds(2))
        await running.waitUntilStopped()
    }
}

/// Runs `body` against a started test server and stops it afterwards, even
/// when `body` throws.
public func withWebhookTestServer<Result: Sendable>(
    _ server: WebhookServer, http adjust: (inout HTTPServerConfiguration) -> Void = { _ in },
    _ body: (WebhookTestServer) async throws -> Result
) async throws -> Result {
    let testServer = try WebhookTestServer(server, http: adjust)
    do {
        let result = try await body(testServer)
        await testServer.stop()
        return result
    } catch {
        await testServer.stop()
        throw error
    }
}

import AsyncHTTPClient
import HTTPServer
import Locking
import TrustPay
import TrustPayAPI

/// A stand-in for TrustPay's API on a real loopback socket: answers from a
/// script, one reply per request (the last one repeats), and records what it
/// was sent. The client tests need exact control of each answer; the
/// simulator's own tests cover the provider-like behaviour.
final class ScriptedProvider: Sendable {
    enum Reply: Sendable {
        /// An HTTP status and a body.
        case answer(Int, String)
        /// Waits before answering (for timeouts and concurrency).
        case slow(Duration, Int, String)
    }

    struct Received: Sendable {
        let path: String
        let contentType: String?
        let apiKey: String?
        let body: [UInt8]
    }

    private struct State {
        var replies: [Reply]
        var received: [Received] = []
        var inFlight = 0
        var maxInFlight = 0
    }

    private let state: Locked<State>
    private let server: Server
    let baseURL: String

    init(_ replies: [Reply], tls: TLSConfiguration? = nil) throws {
        precondition(!replies.isEmpty)
        let state = Locked(State(replies: replies))
        var router = Router()
        router.post("/v4/query/order") { request in
            let reply = state.withLock { state in
                state.received.append(
                    Received(path: request.path, contentType: request.headers["Content-Type"],
                             apiKey: request.headers["X-Api-Key"], body: request.body))
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                return state.replies.count > 1 ? state.replies.removeFirst() : state.replies[0]
            }
            defer { state.withLock { $0.inFlight -= 1 } }
            switch reply {
            case .answer(let status, let body):
                return HTTPResponse(status: HTTPStatus(status), contentType: "application/json", body: body)
            case .slow(let wait, let status, let body):
                try? await Task.sleep(for: wait)
                return HTTPResponse(status: HTTPStatus(status), contentType: "application/json", body: body)
            }
        }
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.eventLoops = 1
        configuration.listeners[0].tls = tls
        server = Server(configuration: configuration, router: router)
        let address = try server.start()[0]
        baseURL = (tls == nil ? "http" : "https") + "://127.0.0.1:\(address.port)"
        self.state = state
    }

    var received: [Received] { state.withLock { $0.received } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    func stop() async {
        server.shutdown(drainTimeout: .seconds(2))
        await server.waitUntilStopped()
    }

    /// A success answer for `orderNo` of merchant `merchantID`.
    static func success(
        orderNo: String = "ORD-1", merchantID: Int64 = 8_820_250_900_009, status: Int = 5,
        amount: String = "106.00"
    ) -> String {
        #"{"code":880001,"message":"success","data":{"order_no":"\#(orderNo)","platform_order_no":"TP1","type_id":0,"#
            + #""merchant_id":\#(merchantID),"currency":"USD","order_amount":\#(amount),"paid_amount":"\#(amount)","#
            + #""status":\#(status),"reason":"success","notify_status":3,"create_time":"2026-05-15T07:23:06Z"}}"#
    }

    static func refusal(_ code: Int, _ message: String) -> String {
        #"{"code":\#(code),"message":"\#(message)","data":null}"#
    }
}

/// Runs `body` with a fresh provider and an HTTP client, shutting both down after.
func withProvider<T: Sendable>(
    _ replies: [ScriptedProvider.Reply], _ body: (ScriptedProvider, HTTPClient) async throws -> T
) async throws -> T {
    let provider = try ScriptedProvider(replies)
    let http = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
    do {
        let result = try await body(provider, http)
        try await http.shutdown()
        await provider.stop()
        return result
    } catch {
        try? await http.shutdown()
        await provider.stop()
        throw error
    }
}

import Foundation
import HTTPServer
import Locking
import TrustPay

/// TrustPay's Order Query API on a loopback port, in the test process: it
/// checks `X-Api-Key` and the request's signature, answers each order's
/// current status (`880002` for an unknown order, `880011` for a wrong key),
/// and counts the queries per order and how many of one order were in
/// flight at once (each answer waits `delay`, so overlapping queries overlap).
final class LoopbackOrderQueryAPI: Sendable {
    struct Counts: Sendable {
        var queries: [String: Int] = [:]
        var inFlight: [String: Int] = [:]
        var mostAtOnce: [String: Int] = [:]
        var badSignatures = 0
    }

    let merchantID: Int64
    let secret: String
    let apiKey: String
    let delay: Duration
    private let orders = Locked<[String: (type: Int, status: Int)]>([:])
    private let counts = Locked(Counts())
    private let server: HTTPServer
    let baseURL: String

    init(merchantID: Int64, secret: String, apiKey: String, delay: Duration = .milliseconds(200)) throws {
        self.merchantID = merchantID
        self.secret = secret
        self.apiKey = apiKey
        self.delay = delay
        var router = Router()
        let box = Locked<LoopbackOrderQueryAPI?>(nil)
        router.post("/v4/query/order") { request in
            guard let api = box.withLock({ $0 }) else { return HTTPResponse(status: .serviceUnavailable) }
            return await api.answer(request)
        }
        var http = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        http.eventLoops = 1
        server = HTTPServer(configuration: http, router: router)
        baseURL = "http://\(try server.start()[0])"
        box.withLock { $0 = self }
    }

    func stop() async {
        server.shutdown(drainTimeout: 2)
        await server.waitUntilStopped()
    }

    /// The order's current status at the provider.
    func set(_ orderNo: String, status: Int, type: Int = 0) { orders.withLock { $0[orderNo] = (type, status) } }

    var snapshot: Counts { counts.withLock { $0 } }

    private func answer(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.headers["X-Api-Key"] == apiKey else { return Self.json(#"{"code":880011,"message":"unauthorized"}"#) }
        guard case .object(let fields)? = try? JSONValue(parsing: request.body), let orderNo = fields["order_no"]?.stringValue,
            let sign = fields["sign"]?.stringValue
        else { return Self.json(#"{"code":880002,"message":"bad_request"}"#) }
        var unsigned = fields
        _ = unsigned.removeValue(forKey: "sign")
        guard TrustPaySignature().sign(unsigned, secret: secret) == sign else {
            counts.withLock { $0.badSignatures += 1 }
            return Self.json(#"{"code":880011,"message":"bad signature"}"#)
        }
        counts.withLock { counts in
            counts.queries[orderNo, default: 0] += 1
            counts.inFlight[orderNo, default: 0] += 1
            counts.mostAtOnce[orderNo] = max(counts.mostAtOnce[orderNo] ?? 0, counts.inFlight[orderNo] ?? 0)
        }
        try? await Task.sleep(for: delay)
        counts.withLock { $0.inFlight[orderNo, default: 1] -= 1 }
        guard let order = orders.withLock({ $0[orderNo] }) else {
            return Self.json(#"{"code":880002,"message":"order not found"}"#)
        }
        let quoted = JSONValue.string(orderNo).compactJSON
        return Self.json(
            """
            {"code":880001,"message":"success","data":{"order_no":\(quoted),"platform_order_no":"TP-1",\
            "type_id":\(order.type),"merchant_id":\(merchantID),"currency":"USD","order_amount":"106",\
            "paid_amount":106,"refund_amount":"0","fee":"6","status":\(order.status),"reason":"",\
            "notify_status":3,"notify_time":"2025-08-05T16:43:55Z","create_time":"2025-08-05T16:40:00Z"}}
            """)
    }

    private static func json(_ text: String) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
    }
}

import Foundation
import HTTPServer
import Locking
import TrustPay

/// `POST /v4/query/order` as TrustPay answers it: HTTP 200 with
/// `{"code":…,"message":…,"data":…}`.
///
/// - a missing or unknown `X-Api-Key`: `880011` unauthorized;
/// - a body that is not JSON, lacks `order_no`, or whose `sign` does not
///   verify with the merchant's secret: `880002` bad_request;
/// - an order the merchant does not have, or one that has not happened yet:
///   `880002` with the message `order not found`. **Assumption** of the
///   simulator: the provider only says "a non-success code".
struct QueryEndpoint: Sendable {
    let merchants: [SimulatedMerchant]
    let book: OrderBook
    let amountsAs: @Sendable () -> AmountStyle
    let faults: Locked<[Int]>
    let log: Locked<[SimulatedQuery]>

    func respond(to request: HTTPRequest) -> HTTPResponse {
        if let status = faults.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            record(request, code: nil, httpStatus: status)
            return HTTPResponse(status: HTTPStatus(status), contentType: "text/plain", body: "simulated failure\n")
        }
        let (code, message, data) = answer(request)
        record(request, code: code, httpStatus: 200)
        var envelope: JSONObject = ["code": .integer(code.code), "message": .string(message)]
        envelope["data"] = data.map(JSONValue.object) ?? .null
        return HTTPResponse(
            status: .ok, headers: [("Content-Type", "application/json")], body: envelope.compactJSONBytes)
    }

    private func answer(_ request: HTTPRequest) -> (TrustPayAPICode, String, JSONObject?) {
        guard let key = request.headers["X-Api-Key"], let merchant = merchants.first(where: { $0.apiKey == key }) else {
            return (.unauthorized, "unauthorized", nil)
        }
        guard case .object(let fields)? = try? JSONValue(parsing: request.body) else {
            return (.badRequest, "invalid JSON body", nil)
        }
        guard TrustPaySignature().verify(fields, secrets: [merchant.secret], forms: [.asTransmitted]).isValid else {
            return (.badRequest, "invalid signature", nil)
        }
        guard let orderNo = fields["order_no"]?.stringValue, !orderNo.isEmpty else {
            return (.badRequest, "order_no is required", nil)
        }
        if let sent = fields["merchant_id"], sent != .integer(merchant.id) {
            return (.badRequest, "merchant_id does not match the API key", nil)
        }
        guard let entry = book.entry(merchantID: merchant.id, orderNo: orderNo), let current = entry.current else {
            return (.badRequest, "order not found", nil)
        }
        return (.success, "success", data(entry, current: current))
    }

    private func data(_ entry: OrderBook.Entry, current: Int) -> JSONObject {
        let order = entry.order
        let step = order.statuses[current]
        let amounts = CallbackBody.amounts(of: order, at: step)
        func amount(_ value: Amount?) -> JSONValue {
            guard let value else { return .null }
            return amountsAs() == .strings ? .string(value.description) : JSONValue(value)
        }
        var data: JSONObject = [
            "order_no": .string(order.orderNo),
            "platform_order_no": .string(Self.platformOrderNo(order)),
            "type_id": .integer(order.type.rawValue),
            "merchant_id": .integer(order.merchantID),
            "currency": .string(order.currency),
            "order_amount": amount(order.orderAmount),
            "paid_amount": amount(amounts.paid),
            "refund_amount": amount(amounts.refund),
            "fee": amount(amounts.fee),
            "status": .integer(step.status.code),
            "reason": .string(step.reason),
            "notify_status": .integer(entry.notifyStatus),
        ]
        data["notify_time"] = entry.notifyTime.map { .string(Self.iso8601($0)) } ?? .null
        data["create_time"] = .string(Self.iso8601(entry.createdAt))
        return data
    }

    private func record(_ request: HTTPRequest, code: TrustPayAPICode?, httpStatus: Int) {
        let orderNo = (try? JSONValue(parsing: request.body))?.objectValue?["order_no"]?.stringValue
        log.withLock {
            $0.append(SimulatedQuery(orderNo: orderNo, apiKey: request.headers["X-Api-Key"], httpStatus: httpStatus,
                                     code: code))
        }
    }

    /// A stable provider-side number: the same order always gets the same one.
    static func platformOrderNo(_ order: ScriptedOrder) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in "\(order.merchantID)/\(order.orderNo)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return "TP" + String(hash % 10_000_000_000_000, radix: 10)
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)  // 2026-05-15T07:23:06Z
    }
}

/// One query the simulator answered: for tests.
public struct SimulatedQuery: Sendable, Equatable {
    /// `order_no` of the body, if it had one.
    public let orderNo: String?
    public let apiKey: String?
    public let httpStatus: Int
    /// The answer's code; `nil` for an injected HTTP failure.
    public let code: TrustPayAPICode?
}

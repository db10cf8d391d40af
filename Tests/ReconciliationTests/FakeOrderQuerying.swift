import Foundation
import Locking
import TrustPay
import TrustPayAPI

/// TrustPay's Order Query API as a table: each order's answer (or error),
/// and every query asked, in order.
final class FakeOrderQuerying: OrderQuerying {
    private let answers = Locked<[String: Result<[UInt8], TrustPayAPIError>]>([:])
    private let asked = Locked<[String]>([])

    /// What was queried, order numbers in the order asked.
    var queries: [String] { asked.withLock { $0 } }

    func answer(_ orderNo: String, status: Int, merchantID: Int64 = 1, type: Int = 0) {
        answers.withLock { $0[orderNo] = .success(Self.answer(orderNo, status: status, merchantID: merchantID, type: type)) }
    }

    func fail(_ orderNo: String, with error: TrustPayAPIError) {
        answers.withLock { $0[orderNo] = .failure(error) }
    }

    func queryOrder(orderNo: String, merchantID: Int64) async throws(TrustPayAPIError) -> OrderQueryAnswer {
        asked.withLock { $0.append(orderNo) }
        let result = answers.withLock { $0[orderNo] }
        switch result {
        case .success(let body)?:
            do { return try OrderQueryAnswer.parse(body) } catch { throw .malformedAnswer("\(error)") }
        case .failure(let error)?:
            throw error
        case nil:
            throw .provider(code: TrustPayAPICode(code: 880002), message: "order not found")
        }
    }

    /// A success answer as the provider writes it, amounts as strings.
    static func answer(_ orderNo: String, status: Int, merchantID: Int64 = 1, type: Int = 0) -> [UInt8] {
        Array(
            """
            {"code":880001,"message":"success","data":{"order_no":"\(orderNo)","platform_order_no":"TP-\(orderNo)",\
            "type_id":\(type),"merchant_id":\(merchantID),"currency":"USD","order_amount":"106","paid_amount":"106",\
            "refund_amount":"0","fee":"6","status":\(status),"reason":"","notify_status":3,\
            "notify_time":"2025-08-05T16:43:55Z","create_time":"2025-08-05T16:40:00Z"}}
            """.utf8)
    }
}

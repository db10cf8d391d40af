import Testing
@testable import TrustPay

/// Reconciliation reads an Order Query answer as the payment callback it
/// stands for; handlers receive that callback for a reconciled event.
@Suite("A payment callback from an Order Query answer")
struct OrderQueryCallbackTests {
    static func answer(_ data: String, code: String = "880001") -> [UInt8] {
        Array("{\"code\":\(code),\"message\":\"success\",\"data\":{\(data)}}".utf8)
    }

    @Test("amounts are exact, written as numbers or as strings; type_id is the order type")
    func amountsAsNumbersOrStrings() throws {
        let numbers = Self.answer(
            #""order_no":"P-1","platform_order_no":"TP9","type_id":0,"merchant_id":8820250900009,"currency":"USD","order_amount":106,"paid_amount":106.00,"refund_amount":0,"fee":6,"status":5,"reason":"success","notify_status":3,"notify_time":"2025-08-05T16:43:55Z","create_time":"2025-08-05T16:40:00Z""#)
        let strings = Self.answer(
            #""order_no":"P-1","type_id":"1","merchant_id":8820250900009,"order_amount":"50","paid_amount":"2.5","fee":"0.10","status":2,"reason":"""#)
        let fromNumbers = try PaymentCallback(orderQueryAnswer: numbers)
        #expect(fromNumbers.type == .payin && fromNumbers.merchantID == 8_820_250_900_009 && fromNumbers.orderNo == "P-1")
        #expect(fromNumbers.status == .unliquidated && fromNumbers.reason == "success")
        #expect(fromNumbers.orderAmount == Amount("106") && fromNumbers.paidAmount?.description == "106.00")
        #expect(fromNumbers.fee == Amount("6") && fromNumbers.refundAmount == nil && fromNumbers.merchantRefundNos.isEmpty)
        #expect(fromNumbers.rawBody == numbers && fromNumbers.sign == nil)
        let fromStrings = try PaymentCallback(orderQueryAnswer: strings)
        #expect(fromStrings.orderAmount == Amount("50") && fromStrings.paidAmount == Amount("2.5"))
        #expect(fromStrings.fee?.description == "0.10" && fromStrings.status == .paid)
    }

    @Test("the v3 API's camelCase names are read too")
    func camelCase() throws {
        let callback = try PaymentCallback(
            orderQueryAnswer: Self.answer(#""orderNo":"P-2","typeId":1,"merchantId":7,"orderAmount":"20.00","status":3"#))
        #expect(callback.orderNo == "P-2" && callback.type == .payout && callback.merchantID == 7)
        #expect(callback.orderAmount.description == "20.00" && callback.status == .failed)
    }

    @Test("an error code, or an answer without data or a status, is refused")
    func refusals() {
        #expect(throws: CallbackDecodingError.self) {
            try PaymentCallback(orderQueryAnswer: Self.answer(#""order_no":"P-1","merchant_id":7,"order_amount":1,"status":5"#, code: "880002"))
        }
        #expect(throws: CallbackDecodingError.self) {
            try PaymentCallback(orderQueryAnswer: Array(#"{"code":880001,"message":"success"}"#.utf8))
        }
        #expect(throws: CallbackDecodingError.self) {
            try PaymentCallback(orderQueryAnswer: Self.answer(#""order_no":"P-1","merchant_id":7,"order_amount":1"#))
        }
        #expect(throws: CallbackDecodingError.self) { try PaymentCallback(orderQueryAnswer: Array("not json".utf8)) }
    }

    @Test("its content hash is the MD5 of the answer's bytes")
    func contentHash() {
        #expect(PaymentCallback.contentHash(ofOrderQueryAnswer: Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
    }
}

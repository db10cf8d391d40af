import Testing
import TrustPay

/// The key and order-reference texts are stored and indexed by every inbox:
/// an existing database keeps matching only while they stay byte for byte
/// what they were when it was written.
@Suite("Event identity: idempotency keys, order references, status ranks")
struct EventIdentityTests {
    private func payment(_ text: String) throws -> PaymentCallback { try PaymentCallback(body: Array(text.utf8)) }
    private func card(_ text: String) throws -> CardCallback { try CardCallback(body: Array(text.utf8)) }

    @Test func aPaymentKeyIsMerchantTypeOrderStatusAndSortedRefunds() throws {
        let callback = try payment(
            #"{"type":1,"merchant_id":8820250900009,"order_no":"P\"1é","order_amount":106,"status":8,"#
                + #""merchant_refund_no":["RF-2","RF-1"],"reason":""}"#)
        #expect(callback.idempotencyKey == #"["payment",8820250900009,1,"P\"1é",8,["RF-1","RF-2"]]"#)
        #expect(callback.orderReference == #"["payment",8820250900009,1,"P\"1é"]"#)
        // Both at once (what the pipeline records): the same texts.
        #expect(callback.identity.idempotencyKey == callback.idempotencyKey)
        #expect(callback.identity.orderReference == callback.orderReference)
        #expect(
            PaymentCallback.orderReference(merchantID: 8_820_250_900_009, type: .payout, orderNo: "P\"1é")
                == callback.orderReference)
    }

    @Test func anAbsentTypeIsPayinAndNoRefundsIsAnEmptyList() throws {
        let callback = try payment(#"{"merchant_id":7,"order_no":"A","order_amount":5,"status":2,"reason":""}"#)
        #expect(callback.idempotencyKey == #"["payment",7,0,"A",2,[]]"#)
        #expect(callback.orderReference == #"["payment",7,0,"A"]"#)
        #expect(callback.identity.idempotencyKey == #"["payment",7,0,"A",2,[]]"#)
        #expect(callback.identity.orderReference == #"["payment",7,0,"A"]"#)
    }

    @Test func aCardKeyIsTheRouteMerchantTypeOrderAndStatus() throws {
        let callback = try card(#"{"order_no":"c1","status":4,"type":"OPEN_CARD","reason":""}"#)
        #expect(callback.idempotencyKey(merchantID: 42) == #"["card",42,"OPEN_CARD","c1",4]"#)
        #expect(callback.orderReference(merchantID: 42) == #"["card",42,"OPEN_CARD","c1"]"#)
    }

    @Test(arguments: [
        (1, 0), (2, 1), (3, 1), (4, 1), (5, 1), (6, 2), (9, 3), (8, 3), (7, 4),
    ])
    func statusesRankByHowFarAlongTheirOrderTheyAre(_ code: Int, _ rank: Int) {
        #expect(OrderProgress.rank(of: OrderStatus(code: code)) == rank)
    }

    @Test func anUnknownStatusHasNoRank() {
        #expect(OrderProgress.rank(of: OrderStatus(code: 99)) == nil)
    }

    /// The texts are written part by part; they must stay what building the
    /// parts as `JSONValue`s and rendering them compactly gives, for any
    /// merchant number, order type and order number (escapes, non-ASCII).
    @Test(arguments: [
        (Int64(0), 0, "A"), (Int64.max, 1, "P\"1é"), (Int64.min, -3, "tab\tnew\nline\u{01}"), (Int64(-1), 7, ""),
        (Int64(8_820_250_900_009), 12_345, "😀/\\"),
    ])
    func orderReferencesAreTheCompactJSONOfTheirParts(merchantID: Int64, type: Int, orderNo: String) {
        let expected = JSONValue.array([
            "payment", .integer(merchantID), .integer(type), .string(orderNo),
        ]).compactJSON
        #expect(PaymentCallback.orderReference(merchantID: merchantID, type: OrderType(rawValue: type), orderNo: orderNo)
            == expected)
    }
}


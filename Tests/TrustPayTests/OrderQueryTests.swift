import Foundation
import Testing
@testable import TrustPay

@Suite("Order Query request: signed by the shared rule")
struct OrderQueryRequestTests {
    /// The canonical string written out by hand from CALLBACKS.md's rule,
    /// hashed with the MD5 the shared vectors pin down.
    private func expectedSign(_ canonical: String) -> String {
        MD5.hex(MD5.digest(Array(canonical.utf8)))
    }

    @Test("the MD5 used here reproduces every valid shared vector from its canonical string",
          arguments: try SignatureVector.all().filter { $0.valid && $0.canonical != nil })
    func md5MatchesVectors(_ vector: SignatureVector) throws {
        #expect(expectedSign(try #require(vector.canonical)) == vector.sign?.lowercased())
    }

    @Test("with a merchant id: both fields signed in byte order, the secret last, sign appended",
          arguments: try SignatureVector.all().filter(\.valid).map(\.secret).uniqued())
    func signedWithMerchantID(secret: String) throws {
        let body = OrderQueryRequest(orderNo: "ORD-1001", merchantID: 8_820_250_900_009).signedBody(secret: secret)
        let sign = expectedSign("merchant_id=8820250900009&order_no=ORD-1001&secret=\(secret)")
        #expect(String(decoding: body, as: UTF8.self)
            == #"{"merchant_id":8820250900009,"order_no":"ORD-1001","sign":"\#(sign)"}"#)
        #expect(TrustPaySignature().verify(body: body, secrets: [secret], forms: [.asTransmitted])
            == .valid(secretIndex: 0, form: .asTransmitted))
    }

    @Test("without a merchant id only order_no is sent and signed")
    func signedWithoutMerchantID() {
        let body = OrderQueryRequest(orderNo: "payout0003", merchantID: nil).signedBody(secret: "s3cr3t-merchant-key")
        let sign = expectedSign("order_no=payout0003&secret=s3cr3t-merchant-key")
        #expect(String(decoding: body, as: UTF8.self) == #"{"order_no":"payout0003","sign":"\#(sign)"}"#)
    }

    @Test("another secret gives another signature, which the first secret rejects")
    func secretMatters() {
        let request = OrderQueryRequest(orderNo: "ORD-1", merchantID: 1)
        let body = request.signedBody(secret: "other")
        #expect(body != request.signedBody(secret: "s3cr3t-merchant-key"))
        #expect(TrustPaySignature().verify(body: body, secrets: ["s3cr3t-merchant-key"]) == .invalid(.mismatch))
    }
}

@Suite("TrustPay API answer codes")
struct TrustPayAPICodeTests {
    /// CALLBACKS.md, "Response codes of the provider's API", copied by hand.
    static let table: [(Int, String)] = [
        (880001, "success"), (880002, "bad_request"), (880003, "database_error"), (880004, "remote_service_error"),
        (880005, "insufficient_balance"), (880006, "invalid_transaction_type"), (880007, "system_internal_error"),
        (880008, "order_processing_failed"), (880009, "decrease_payout_amount_failed"), (880010, "backend_success"),
        (880011, "unauthorized"), (880012, "order_already_exists"), (880013, "internal_error"),
        (880014, "all_channels_failed"), (880015, "amount_rule_violation"), (880016, "channel_configuration_error"),
        (880017, "user_risk_control_failed"), (880018, "card_failure_limit_exceeded"),
        (880019, "account_limit_exceeded"), (880020, "daily_amount_limit_exceeded"),
        (880021, "daily_transaction_count_limit_exceeded"), (880022, "transaction_amount_limit_exceeded"),
        (880023, "channel_quota_limit_exceeded"),
    ]

    @Test("every documented code maps to a named case with the provider's name, and back")
    func everyCodeMapped() {
        #expect(Self.table.count == 23)
        var seen: Set<TrustPayAPICode> = []
        for (number, name) in Self.table {
            let code = TrustPayAPICode(code: number)
            if case .unknown = code { Issue.record("\(number) is not a named case") }
            #expect(code.code == number)
            #expect(code.name == name, "\(number)")
            seen.insert(code)
        }
        #expect(seen.count == 23)
        #expect(TrustPayAPICode.documented.map(\.code) == Self.table.map(\.0))
    }

    @Test("the cases the client relies on are the right numbers")
    func namedCases() {
        #expect(TrustPayAPICode(code: 880001) == .success)
        #expect(TrustPayAPICode(code: 880002) == .badRequest)
        #expect(TrustPayAPICode(code: 880011) == .unauthorized)
        #expect(TrustPayAPICode(code: 880023) == .channelQuotaLimitExceeded)
        #expect(TrustPayAPICode.unauthorized.description == "880011 (unauthorized)")
    }

    @Test("codes outside the table are kept as unknown", arguments: [0, 1, 880000, 880024, 990001, -880001])
    func unknownCodes(_ number: Int) {
        let code = TrustPayAPICode(code: number)
        #expect(code == .unknown(number))
        #expect(code.code == number)
        #expect(code.name == "unknown")
        #expect(TrustPayAPICode.unknown(880011) == .unauthorized)  // equality by code
    }

    @Test("every non-success code is a provider error carrying code and message",
          arguments: table.map(\.0).filter { $0 != 880001 } + [880099])
    func providerErrors(_ number: Int) {
        let body = Array(#"{"code":\#(number),"message":"nope","data":null}"#.utf8)
        #expect(throws: OrderQueryAnswerError.provider(code: TrustPayAPICode(code: number), message: "nope")) {
            try OrderQueryAnswer.parse(body)
        }
    }
}

@Suite("Order Query answers")
struct OrderQueryAnswerTests {
    static let documented = #"""
        {"code":880001,"message":"success","data":{"order_no":"ORD-1001","platform_order_no":"TP20260515000123",
        "type_id":0,"merchant_id":8820250900009,"currency":"USD","order_amount":106,"paid_amount":106.00,
        "refund_amount":0,"fee":6.5,"status":5,"reason":"success","notify_status":3,
        "notify_time":"2026-05-15T07:25:00Z","create_time":"2026-05-15T07:23:06Z","future_field":{"x":[1,2]}},
        "trace_id":"abc"}
        """#

    @Test("the documented answer is read field by field; unknown fields are ignored and the body kept")
    func documentedAnswer() throws {
        let body = Array(Self.documented.utf8)
        let answer = try OrderQueryAnswer.parse(body)
        #expect(answer.orderNo == "ORD-1001")
        #expect(answer.platformOrderNo == "TP20260515000123")
        #expect(answer.orderType == .payin)
        #expect(answer.merchantID == 8_820_250_900_009)
        #expect(answer.currency == "USD")
        #expect(answer.orderAmount == Amount("106"))
        #expect(answer.paidAmount?.description == "106.00")
        #expect(answer.refundAmount == .zero)
        #expect(answer.fee == Amount("6.5"))
        #expect(answer.status == .unliquidated)
        #expect(answer.statusCode == 5)
        #expect(answer.reason == "success")
        #expect(answer.notifyStatus == 3)
        #expect(answer.notifyTime == "2026-05-15T07:25:00Z")
        #expect(answer.createTime == "2026-05-15T07:23:06Z")
        #expect(answer.createdAt == Date(timeIntervalSince1970: 1_778_829_786))
        #expect(answer.rawAnswer == body)
    }

    private func answer(data: String) throws(OrderQueryAnswerError) -> OrderQueryAnswer {
        try OrderQueryAnswer.parse(Array(#"{"code":880001,"message":"success","data":{\#(data)}}"#.utf8))
    }

    private let minimal = #""order_no":"P-1","type_id":1,"merchant_id":1,"status":2"#

    @Test("a payout with only the required fields; absent and empty optionals are nil")
    func minimalPayout() throws {
        let answer = try answer(data: minimal + #","currency":"","reason":null"#)
        #expect(answer.orderType == .payout)
        #expect(answer.status == .paid)
        #expect(answer.currency == nil && answer.reason == nil && answer.orderAmount == nil && answer.createdAt == nil)
    }

    @Test("amounts as strings and as numbers are the same exact values",
          arguments: [("50", "50"), ("2.5", "2.5"), ("2.50", "2.5"), ("0.1", "0.10"), ("106.00", "106")])
    func stringAndNumberAmounts(_ pair: (String, String)) throws {
        let asString = try answer(data: minimal + #","order_amount":"\#(pair.0)","fee":"\#(pair.1)""#)
        let asNumber = try answer(data: minimal + #","order_amount":\#(pair.0),"fee":\#(pair.1)"#)
        #expect(asString.orderAmount == Amount(pair.0) && asNumber.orderAmount == Amount(pair.0))
        #expect(asString.orderAmount == asNumber.orderAmount)
        #expect(asString.orderAmount?.description == pair.0 && asNumber.orderAmount?.description == pair.0)
        #expect(asString.fee == asNumber.fee)
        #expect(asString.orderAmount == asString.fee)
    }

    @Test("amounts a Double would round stay exact, as numbers and as strings")
    func amountsBeyondDouble() throws {
        let big = "12345678901234567890.12"
        for data in [#","paid_amount":\#(big)"#, #","paid_amount":"\#(big)""#] {
            let answer = try answer(data: minimal + data)
            #expect(answer.paidAmount?.description == big)
            #expect(answer.paidAmount != Amount("12345678901234567890.1"))
        }
    }

    @Test("integers may come as strings too; unknown statuses and types are kept")
    func lenientIntegers() throws {
        let answer = try answer(data: #""order_no":"X","type_id":"7","merchant_id":"8820250900009","status":42"#)
        #expect(answer.orderType == .unknown(7))
        #expect(answer.merchantID == 8_820_250_900_009)
        #expect(answer.status == .unknown(42) && answer.statusCode == 42)
    }

    @Test("create_time with an offset, fractional seconds, or none; an unreadable one is kept as text only",
          arguments: [
            ("2026-05-15T15:23:06+08:00", 1_778_829_786.0), ("2026-05-15T07:23:06.500Z", 1_778_829_786.5),
            ("2026-05-15 07:23:06", 1_778_829_786.0), ("2024-02-29T23:59:59Z", 1_709_251_199.0),
            ("2026-02-30T00:00:00Z", nil), ("yesterday", nil), ("2026-05-15T07:23:06Zjunk", nil),
          ] as [(String, Double?)])
    func createTime(_ pair: (String, Double?)) throws {
        let answer = try answer(data: minimal + #","create_time":"\#(pair.0)""#)
        #expect(answer.createTime == pair.0)
        #expect(answer.createdAt == pair.1.map(Date.init(timeIntervalSince1970:)))
    }

    @Test("malformed answers are refused naming the field",
          arguments: [
            ("not json", "not valid JSON"),
            ("[1,2]", "not an object"),
            (#"{"message":"success","data":{}}"#, "\"code\" is missing"),
            (#"{"code":"eight","data":{}}"#, "\"code\" is not an integer"),
            (#"{"code":880001.5,"data":{}}"#, "\"code\" is not an integer"),
            (#"{"code":880001,"message":7,"data":{}}"#, "\"message\" is not a string"),
            (#"{"code":880001,"message":"success"}"#, "\"data\" is missing"),
            (#"{"code":880001,"data":null}"#, "\"data\" is missing"),
            (#"{"code":880001,"data":[1]}"#, "\"data\" is not an object"),
            (#"{"code":880001,"data":{"type_id":0,"merchant_id":1,"status":5}}"#, "\"data.order_no\" is missing"),
            (#"{"code":880001,"data":{"order_no":7,"type_id":0,"merchant_id":1,"status":5}}"#,
             "\"data.order_no\" is not a string"),
            (#"{"code":880001,"data":{"order_no":"A","merchant_id":1,"status":5}}"#, "\"data.type_id\" is missing"),
            (#"{"code":880001,"data":{"order_no":"A","type_id":0,"status":5}}"#, "\"data.merchant_id\" is missing"),
            (#"{"code":880001,"data":{"order_no":"A","type_id":0,"merchant_id":99999999999999999999,"status":5}}"#,
             "\"data.merchant_id\" is not an integer"),
            (#"{"code":880001,"data":{"order_no":"A","type_id":0,"merchant_id":1}}"#, "\"data.status\" is missing"),
            (#"{"code":880001,"data":{"order_no":"A","type_id":0,"merchant_id":1,"status":"five"}}"#,
             "\"data.status\" is not an integer"),
            (#"{"code":880001,"data":{"order_no":"A","type_id":0,"merchant_id":1,"status":5,"fee":"1,5"}}"#,
             "\"data.fee\" is not a decimal amount"),
            (#"{"code":880001,"data":{"order_no":"A","type_id":0,"merchant_id":1,"status":5,"order_amount":true}}"#,
             "\"data.order_amount\" is not a decimal amount"),
            (#"{"code":880001,"data":{"order_no":"A","type_id":0,"merchant_id":1,"status":5,"paid_amount":"1e999"}}"#,
             "\"data.paid_amount\" is not a decimal amount"),
          ])
    func malformed(_ pair: (String, String)) {
        do {
            let answer = try OrderQueryAnswer.parse(Array(pair.0.utf8))
            Issue.record("accepted \(answer)")
        } catch .malformed(let why) {
            #expect(why.contains(pair.1), "\(why)")
        } catch {
            Issue.record("expected malformed, got \(error)")
        }
    }

    @Test("a provider error's description names the code and never the body")
    func providerErrorDescription() {
        let error = OrderQueryAnswerError.provider(code: .unauthorized, message: "invalid api key")
        #expect(error.description == #"TrustPay answered 880011 (unauthorized): "invalid api key""#)
    }
}

extension Sequence where Element: Hashable {
    fileprivate func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}

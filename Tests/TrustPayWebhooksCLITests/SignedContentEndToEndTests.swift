import Foundation
import Testing
import TrustPay
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The reported reshapings of genuine callbacks, posted to the binary over
/// HTTP: each is refused with a 4xx or recognised as a duplicate, and the
/// inbox holds exactly one event per genuine callback.
@Suite(.serialized) struct SignedContentEndToEndTests {
    static let secret = StandaloneServerTests.secret
    static let merchant = ScratchDirectory.merchantID

    static func signed(_ fields: JSONObject) -> String {
        String(decoding: TrustPaySignature().signedBody(fields, secret: secret), as: UTF8.self)
    }

    static func post(_ body: String, to url: String) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func reshapedGenuineCallbacksAreRefusedOrDuplicatesAndEachGenuineOneIsOneEvent() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(config: StandaloneServerTests.config(directory, handlers: """
              - type: jsonl
                path: \(server_events(directory))
            """, extra: """
            routes:
              payment:
                path: /trustpay/payment
              cards:
                - path: /trustpay/card
                  merchant: \(Self.merchant)
            """), in: directory)
        defer { server.stop() }
        let cardURL = "http://127.0.0.1:\(server.port)/trustpay/card"

        let payin = Self.signed([
            "type": 0, "merchant_id": .integer(Self.merchant), "order_no": "E2E-PAYIN", "order_amount": 106,
            "paid_amount": 106, "balance_amount": 100, "fee": 6, "pay_time": "2025-08-05 16:43:55", "status": 5,
            "reason": "success",
        ])
        let refund = Self.signed([
            "type": 0, "merchant_id": .integer(Self.merchant), "order_no": "E2E-REFUND", "order_amount": 106,
            "refund_amount": 50, "merchant_refund_no": ["RF-1", "RF-2"], "status": 8, "reason": "refund",
        ])
        let payout = Self.signed([
            "type": 1, "merchant_id": .integer(Self.merchant), "order_no": "E2E-PAYOUT", "order_amount": 20,
            "paid_amount": 20, "balance_amount": 21, "fee": 1, "pay_time": "2025-08-05 16:43:55", "status": 2,
            "reason": "success",
        ])
        let card = Self.signed([
            "order_no": "E2E-CARD", "status": 4, "card_id": 57, "amount": 35, "fee": 11, "balance": 24,
            "type": "OPEN_CARD", "reason": "",
        ])
        for (body, url) in [(payin, server.paymentURL), (refund, server.paymentURL), (payout, server.paymentURL), (card, cardURL)] {
            let (status, answer) = try await Self.post(body, to: url)
            #expect(status == 200, "\(answer)")
        }

        let reshaped: [(name: String, body: String, url: String)] = [
            ("refund list as a string",
             refund.replacingOccurrences(of: #"["RF-1","RF-2"]"#, with: #""[\"RF-1\",\"RF-2\"]""#), server.paymentURL),
            ("payin without its unsigned type, on the card route",
             payin.replacingOccurrences(of: #""type":0,"#, with: ""), cardURL),
            ("separators in a field name",
             payout.replacingOccurrences(of: #""type":1,"#, with: #""type":0,"#)
                .replacingOccurrences(of: #""status":2,"#, with: #""status":0,"status=2&type":"1","#), server.paymentURL),
            ("a signed field moved into a crafted key",
             payin.replacingOccurrences(of: #""order_no":"E2E-PAYIN","#, with: #""order_amount=106&order_no":"E2E-PAYIN","order_no":0,"#)
                .replacingOccurrences(of: #""order_amount":106,"#, with: ""), server.paymentURL),
            ("whitespace and upper-case hex", payin.replacingOccurrences(of: #"",""#, with: "\" ,\n \"").uppercased()
                .replacingOccurrences(of: "\"SIGN\"", with: "\"sign\""), server.paymentURL),
        ]
        for attempt in reshaped {
            let (status, answer) = try await Self.post(attempt.body, to: attempt.url)
            let refused = (400..<500).contains(status)
            let duplicate = status == 200
            #expect(refused || duplicate, "\(attempt.name): \(status) \(answer)")
            #expect(!answer.contains("E2E-"), "\(attempt.name): the answer echoes the body: \(answer)")
        }

        let events = try await StandaloneServerTests.listUntil([], in: directory) { events in
            events.count >= 4 && events.allSatisfy { $0["state"] as? String == "completed" }
        }
        let orders = events.map { "\($0["order_no"] as? String ?? "?")/\($0["status"] as? Int ?? -1)" }.sorted()
        #expect(orders == ["E2E-CARD/4", "E2E-PAYIN/5", "E2E-PAYOUT/2", "E2E-REFUND/8"], "\(events)")
        let handled = (try? String(contentsOfFile: server_events(directory), encoding: .utf8)) ?? ""
        #expect(handled.split(separator: "\n").count == 4, "\(handled)")
    }
}

import Foundation
import Testing
import TrustPay

import OperatorConsole

@Suite struct CardDataMaskTests {
    @Test func cardNumbersKeepTheirLastFourDigitsAndCVVsAreHidden() throws {
        let body = #"{"order_no":"v1","card_number":"4111111111111111","pan":5500000000000004,"cvv":"123","extra":{"card_cvv":987},"merchant_id":8820250900009,"note":"ref 12345678901 ok"}"#
        let masked = CardDataMask.body(Array(body.utf8)).compactJSON
        #expect(masked.contains(#""card_number":"************1111""#))
        #expect(masked.contains(#""pan":"************0004""#))
        #expect(masked.contains(#""cvv":"***""#))
        #expect(masked.contains(#""card_cvv":"***""#))
        #expect(masked.contains(#""merchant_id":8820250900009"#))
        #expect(masked.contains("ref 12345678901 ok"))  // 11 digits: not card-like
    }

    @Test func timeArgumentsAcceptISO8601AndAges() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(TimeExpression.date("2h", now: now) == now.addingTimeInterval(-7200))
        #expect(TimeExpression.date("2025-08-05T16:43:55Z") != nil)
        #expect(TimeExpression.date("2025-08-05") != nil)
        #expect(TimeExpression.date("yesterday") == nil)
    }
}

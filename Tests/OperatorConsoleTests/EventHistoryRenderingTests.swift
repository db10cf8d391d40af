import Foundation
import Inbox
import Testing
import TrustPay
import Webhooks

import OperatorConsole

/// How an event's attempts and conflicting copies are shown to an operator.
@Suite struct EventHistoryRenderingTests {
    static let stored = Array(#"{"order_no":"ORD-7","status":7,"amount":"10.00","remark":"","sign":"aa"}"#.utf8)

    @Test func aDiagnosisNamesTheSignedFieldsThatDifferWithCardDataMasked() throws {
        let copy = Array(
            #"{"order_no":"ORD-7","status":7,"amount":"12.00","card_no":"4111111111111111","cvv":"123","sign":"bb"}"#.utf8)
        let differences = try #require(ConflictDiagnosis.differences(stored: Self.stored, copy: copy))
        #expect(differences.map(\.field) == ["amount", "card_no", "cvv"], "sign and an empty remark are not signed")
        #expect(differences[0].stored == "10.00" && differences[0].copy == "12.00")
        #expect(differences[1].stored == nil && differences[1].copy == "************1111")
        #expect(differences[2].copy == "***")
    }

    @Test func valuesThatSignAlikeAreNotDifferences() throws {
        // An empty value is left out of the signature, as an absent one is.
        let copy = Array(#"{"order_no":"ORD-7","status":7,"amount":"10.00","remark":null,"sign":"cc"}"#.utf8)
        #expect(ConflictDiagnosis.differences(stored: Self.stored, copy: copy) == [])
        #expect(ConflictDiagnosis.differences(stored: Self.stored, copy: Array("not json".utf8)) == nil)
    }

    @Test func showTextEscapesWhatCameFromACallbackOrAHandler() throws {
        let event = InboxEvent(
            id: "e", key: IdempotencyKey(rawValue: "k"), contentHash: "h1", kind: .payment, merchantID: 1,
            orderType: 0, orderNo: "ORD-7", status: 7, order: OrderReference(rawValue: "o"), previousStatus: nil,
            isStale: false, rawBody: Self.stored, receivedAt: Date(timeIntervalSince1970: 0))
        let copy = Array(#"{"order_no":"ORD-7","status":7,"amount":"10.00","remark":"line\nforged\u001b[31m","sign":"dd"}"#.utf8)
        let history = EventHistory(
            attempts: [
                HandlerAttempt(
                    number: 1, startedAt: Date(timeIntervalSince1970: 1), endedAt: Date(timeIntervalSince1970: 2),
                    outcome: .failed, error: "handler threw: bad\nline"),
                HandlerAttempt(
                    number: 2, startedAt: Date(timeIntervalSince1970: 3), endedAt: Date(timeIntervalSince1970: 4),
                    outcome: .handled),
            ],
            conflictingCopies: [ConflictingCopy(contentHash: "h2", rawBody: copy, receivedAt: Date(timeIntervalSince1970: 5))])
        let object = EventHistoryRendering.object(history, of: event)
        let text = EventHistoryRendering.text(object)
        #expect(!text.contains("\u{1B}") && !text.contains("bad\nline") && !text.contains("line\nforged"), "\(text)")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("  1  failed   1970-01-01T00:00:01.000Z  1970-01-01T00:00:02.000Z  handler threw: bad\\nline"),
                "\(text)")
        #expect(lines.contains("  2  handled  1970-01-01T00:00:03.000Z  1970-01-01T00:00:04.000Z"), "\(text)")
        #expect(lines.contains("  copy 1: received 1970-01-01T00:00:05.000Z, content hash h2, signature verified"), "\(text)")
        #expect(lines.contains(#"    remark: stored (absent), copy "line\nforged\u001b[31m""#), "\(text)")
    }
}

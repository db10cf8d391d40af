import Foundation
import Inbox
import Testing
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// An event recorded from an Order Query answer reaches `onPayment` like a
/// callback's, marked with its source; the callback that follows is a duplicate.
@Suite struct ReconciledDeliveryTests {
    static func answer(_ orderNo: String, status: Int) -> [UInt8] {
        Array(
            """
            {"code":880001,"message":"success","data":{"order_no":"\(orderNo)","platform_order_no":"TP-1","type_id":0,\
            "merchant_id":\(merchant.id),"currency":"USD","order_amount":"106","paid_amount":"106.00","fee":6,\
            "status":\(status),"reason":"success","notify_status":3,"notify_time":"2025-08-05T16:43:55Z",\
            "create_time":"2025-08-05T16:40:00Z"}}
            """.utf8)
    }

    @Test func aReconciledStatusReachesThePaymentHandlerWithItsSource() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let answer = Self.answer("REC-1", status: 5)
            let outcome = try await server.pipeline.recordReconciled(
                NewInboxEvent.reconciled(answer: answer, receivedAt: Date()))
            guard case .recorded(let stored) = outcome else { throw HandlerError(text: "not recorded: \(outcome)") }
            #expect(stored.source == .orderQuery && stored.rawBody == answer)
            #expect(stored.contentHash == PaymentCallback.contentHash(ofOrderQueryAnswer: answer))
            let events = try await recorder.waitForPayments(1)
            let event = try #require(events.first)
            #expect(event.source == .orderQuery && event.eventID == stored.id)
            #expect(event.callback.orderNo == "REC-1" && event.callback.status == .unliquidated)
            #expect(event.callback.paidAmount?.description == "106.00" && event.callback.fee == Amount.of("6"))

            // The genuine callback arrives late: one event, handled once.
            let late = try await server.client.deliver(factory.payment(.payin, orderNo: "REC-1", status: .unliquidated))
            #expect(late.isAcknowledgement, "\(late)")
            #expect(try await server.storedEvents(EventFilter(orderNo: "REC-1")).count == 1)
            let again = try await server.pipeline.recordReconciled(
                NewInboxEvent.reconciled(answer: Self.answer("REC-1", status: 5), receivedAt: Date()))
            #expect(again == .duplicate(try #require(try await server.store.event(id: stored.id))))
        }
        #expect(recorder.payments.count == 1)
    }

    @Test func aCallbackFirstMakesTheAnswerADuplicate() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let response = try await server.client.deliver(factory.payment(.payin, orderNo: "REC-2", status: .unliquidated))
            #expect(response.isAcknowledgement, "\(response)")
            let outcome = try await server.pipeline.recordReconciled(
                NewInboxEvent.reconciled(answer: Self.answer("REC-2", status: 5), receivedAt: Date()))
            guard case .duplicate(let stored) = outcome else { throw HandlerError(text: "not a duplicate: \(outcome)") }
            #expect(stored.source == .callback && stored.conflicts == 0)
            let events = try await recorder.waitForPayments(1)
            #expect(events.first?.source == .callback)
        }
    }
}

/// `webhooks.expect(…)`: the library's way to register an expected order.
@Suite struct ExpectedOrderTests {
    @Test func theLibraryRegistersAnExpectedOrderOnce() async throws {
        let inbox = MemoryInbox()
        let server = makeServer(store: inbox, recorder: HandlerRecorder())
        let registered = Date()
        #expect(try await server.expect(orderNo: "EXP-1", merchantID: merchant.id, type: .payout, now: registered))
        #expect(!(try await server.expect(orderNo: "EXP-1", merchantID: merchant.id, type: .payout)))
        let waiting = try await inbox.reconciliationCandidates(
            finalStatuses: [2], quietSince: registered.addingTimeInterval(1), notBefore: registered.addingTimeInterval(-1),
            limit: 10)
        #expect(waiting.map { "\($0.orderNo) \($0.type) \($0.reason.rawValue)" } == ["EXP-1 payout expected"])
        let storeless = makeServer(store: OutageStore(), recorder: HandlerRecorder())
        await #expect(throws: StoreError.self) { try await storeless.expect(orderNo: "EXP-2", merchantID: merchant.id) }
    }
}

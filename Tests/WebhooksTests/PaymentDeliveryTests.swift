import Testing
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// Every documented payment status, over real HTTP, reaches `onPayment` with typed fields.
@Suite struct PaymentDeliveryTests {
    static let allStatuses: [OrderStatus] = (1...9).map(OrderStatus.init(code:))

    @Test func everyPayinStatusReachesThePaymentHandler() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            for status in Self.allStatuses {
                let response = try await server.client.deliver(factory.payment(.payin, orderNo: "IN-\(status.code)", status: status))
                #expect(response.isAcknowledgement, "status \(status): \(response)")
            }
            let events = try await recorder.waitForPayments(Self.allStatuses.count)
            for status in Self.allStatuses {
                let event = try #require(events.first { $0.callback.orderNo == "IN-\(status.code)" })
                let callback = event.callback
                #expect(callback.type == .payin)
                #expect(callback.status == status)
                #expect(callback.merchantID == merchant.id)
                #expect(callback.orderAmount == Amount.of("106"))
                #expect(event.attempt.number == 1)
                #expect(event.previousStatus == nil)
                #expect(!event.isStale)
                switch status {
                case .pending, .failed, .timedOut:
                    #expect(callback.paidAmount == nil && callback.fee == nil && callback.merchantRefundNos.isEmpty)
                case .refunded, .partiallyRefunded, .refunding:
                    #expect(callback.merchantRefundNos == ["RF-1"])
                    #expect(callback.refundAmount == (status == .refunded ? Amount.of("106") : Amount.of("50")))
                    #expect(callback.paidAmount == nil && callback.payTime == nil)
                default:
                    #expect(callback.paidAmount == Amount.of("106"))
                    #expect(callback.fee == Amount.of("6"))
                    #expect(callback.balanceAmount == Amount.of("100"))
                    #expect(callback.payTime == "2025-08-05 16:43:55")
                }
            }
        }
    }

    @Test func everyPayoutStatusReachesThePaymentHandler() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            for status in Self.allStatuses {
                let response = try await server.client.deliver(factory.payment(.payout, orderNo: "OUT-\(status.code)", status: status))
                #expect(response.isAcknowledgement, "status \(status): \(response)")
            }
            let events = try await recorder.waitForPayments(Self.allStatuses.count)
            let paid = try #require(events.first { $0.callback.orderNo == "OUT-2" })
            #expect(paid.callback.type == .payout)
            #expect(paid.callback.status == .paid)
            #expect(paid.callback.balanceAmount == Amount.of("112"))  // payout: paid + fee
            #expect(Set(events.map(\.callback.status)) == Set(Self.allStatuses))
            #expect(events.allSatisfy { $0.callback.type == .payout })
        }
    }

    @Test func eachRefundOfAPayinIsItsOwnEvent() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let sequence = [
                factory.payment(orderNo: "R-1", status: .unliquidated),
                factory.payment(orderNo: "R-1", status: .refunding, refundNos: ["RF-1"]),
                factory.payment(orderNo: "R-1", status: .partiallyRefunded, refundNos: ["RF-1"], refundAmount: .of("30.50")),
                factory.payment(orderNo: "R-1", status: .partiallyRefunded, refundNos: ["RF-1", "RF-2"], refundAmount: .of("60")),
                factory.payment(orderNo: "R-1", status: .refunded, refundNos: ["RF-1", "RF-2", "RF-3"]),
            ]
            for callback in sequence {
                #expect(try await server.client.deliver(callback).isAcknowledgement)
            }
            let events = try await recorder.waitForPayments(sequence.count)
            #expect(events.map(\.callback.status) == [.unliquidated, .refunding, .partiallyRefunded, .partiallyRefunded, .refunded])
            #expect(events.map(\.previousStatus) == [nil, .unliquidated, .refunding, .partiallyRefunded, .partiallyRefunded])
            #expect(events[2].callback.refundAmount == Amount.of("30.50"))
            #expect(events[2].callback.refundAmount?.description == "30.50")
            #expect(events[3].callback.merchantRefundNos == ["RF-1", "RF-2"])
            #expect(events.allSatisfy { !$0.isStale })
            #expect(Set(events.map(\.eventID)).count == sequence.count)
        }
    }

    @Test func anOlderStatusArrivingLateIsFlaggedStale() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            #expect(try await server.client.deliver(factory.payment(orderNo: "LATE", status: .refunded)).isAcknowledgement)
            _ = try await recorder.waitForPayments(1)
            #expect(try await server.client.deliver(factory.payment(orderNo: "LATE", status: .unliquidated)).isAcknowledgement)
            let events = try await recorder.waitForPayments(2)
            #expect(events[1].callback.status == .unliquidated)
            #expect(events[1].previousStatus == .refunded)
            #expect(events[1].isStale)
            // The order's last status is still 7: another late one is stale too.
            #expect(try await server.client.deliver(factory.payment(orderNo: "LATE", status: .statement)).isAcknowledgement)
            let third = try await recorder.waitForPayments(3)[2]
            #expect(third.isStale && third.previousStatus == .refunded)
        }
    }

    @Test func signaturesWithEitherNumberFormAndOldSpellingsAreAccepted() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            var padded = factory
            padded.form = .twoDecimals
            #expect(try await server.client.deliver(padded.payment(orderNo: "F-2", status: .unliquidated)).isAcknowledgement)
            let camel = SignedCallback(
                fields: [
                    "type": 1, "merchantId": .integer(merchant.id), "orderNo": "CAMEL-1", "orderAmount": .number("20.00"),
                    "paidAmount": .number("20.00"), "status": 2, "reason": "success",
                ], path: "/trustpay/payment", secret: merchant.secret)
            #expect(try await server.client.deliver(camel).isAcknowledgement)
            let events = try await recorder.waitForPayments(2)
            let old = try #require(events.first { $0.callback.orderNo == "CAMEL-1" })
            #expect(old.callback.orderAmount.description == "20.00")
            #expect(old.callback.type == .payout)
        }
    }

    @Test func aPipelineAnswersInProcessLikeOverTheWire() async throws {
        let recorder = HandlerRecorder()
        let pipeline = makeServer(recorder: recorder).makePipeline()
        let workers = Task { await pipeline.runWorkers() }
        defer { workers.cancel() }
        let client = WebhookClient(pipeline: pipeline)
        let response = try await client.deliver(factory.payment(orderNo: "LOCAL-1", status: .unliquidated))
        #expect(response.isAcknowledgement)
        #expect(try await client.send(factory.payment(orderNo: "LOCAL-2", status: .paid).request.contentType("text/plain")).status == 415)
        #expect(try await client.get("/nowhere").status == 404)
        let events = try await recorder.waitForPayments(1)
        #expect(events[0].callback.orderNo == "LOCAL-1")
    }
}

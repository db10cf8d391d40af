import Testing
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// Card callbacks over real HTTP: kinds, raw statuses, and which merchant a route belongs to.
@Suite struct CardDeliveryTests {
    @Test func openCardAndRechargeCallbacksReachTheCardHandler() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let deliveries = [
                factory.card(.openCard, orderNo: "C-1", status: 1),
                factory.card(.openCard, orderNo: "C-1", status: 4),
                factory.card(.recharge, orderNo: "C-2", status: 2, amount: .of("100.00"), fee: .of("1.50")),
                factory.card(.other("CARD_FREEZE"), orderNo: "C-3", status: 77),  // unknown type and status: kept
            ]
            for callback in deliveries {
                let response = try await server.client.deliver(callback)
                #expect(response.isAcknowledgement, "\(response)")
            }
            // Workers run events concurrently: handling order is not delivery order.
            let events = try await recorder.waitForCards(deliveries.count).sorted {
                ($0.callback.orderNo, $0.callback.status) < ($1.callback.orderNo, $1.callback.status)
            }
            #expect(events.map(\.callback.orderNo) == ["C-1", "C-1", "C-2", "C-3"])
            #expect(events.map(\.callback.status) == [1, 4, 2, 77])
            #expect(events.allSatisfy { $0.merchantID == merchant.id })
            #expect(events[1].previousStatus == 1)
            let recharge = events[2].callback
            #expect(recharge.kind == .recharge)
            #expect(recharge.cardID == 57)
            #expect(recharge.amount?.description == "100.00")
            #expect(recharge.fee == Amount.of("1.5"))
            #expect(recharge.balance == Amount.of("98.50"))
            #expect(events[3].callback.kind == .other("CARD_FREEZE"))
            #expect(recorder.payments.isEmpty)
        }
    }

    @Test func theRouteOrTheQueryNamesTheMerchant() async throws {
        let recorder = HandlerRecorder()
        let server = makeServer(recorder: recorder) { server in
            server.configuration.merchants.add(otherMerchant.merchant)
            server.configuration.cardRoutes.append(CardRoute(path: "/cards/other", merchantID: otherMerchant.id))
        }
        try await withWebhookTestServer(server) { server in
            let other = CallbackFactory(merchant: otherMerchant)
            // Two merchants: the plain route needs the query parameter.
            #expect(try await server.client.deliver(factory.card(orderNo: "Q-0", status: 1)).status == 403)
            let byQuery = factory.card(orderNo: "Q-1", status: 1, query: "merchant=\(merchant.id)")
            #expect(try await server.client.deliver(byQuery).isAcknowledgement)
            var byRoute = other.card(orderNo: "Q-2", status: 1)
            byRoute.path = "/cards/other"
            #expect(try await server.client.deliver(byRoute).isAcknowledgement)
            // Signed by the other merchant but posted as the first: the signature fails.
            var wrong = other.card(orderNo: "Q-3", status: 1)
            wrong.query = "merchant=\(merchant.id)"
            #expect(try await server.client.deliver(wrong).status == 401)
            let unknown = factory.card(orderNo: "Q-4", status: 1, query: "merchant=42")
            let response = try await server.client.deliver(unknown)
            #expect(response.status == 403 && response.errorCode == "unknown_merchant")

            let events = try await recorder.waitForCards(2)
            #expect(events.map(\.merchantID).sorted() == [merchant.id, otherMerchant.id].sorted())
        }
    }

    @Test func theSameCardStatusFromTwoMerchantsIsTwoEvents() async throws {
        let recorder = HandlerRecorder()
        let server = makeServer(recorder: recorder) { server in
            server.configuration.merchants.add(otherMerchant.merchant)
        }
        try await withWebhookTestServer(server) { server in
            let first = factory.card(orderNo: "SAME", status: 2, query: "merchant=\(merchant.id)")
            var second = CallbackFactory(merchant: otherMerchant).card(orderNo: "SAME", status: 2)
            second.query = "merchant=\(otherMerchant.id)"
            #expect(try await server.client.deliver(first).isAcknowledgement)
            #expect(try await server.client.deliver(second).isAcknowledgement)
            #expect(try await server.client.deliver(first).isAcknowledgement)  // duplicate
            let events = try await recorder.waitForCards(2)
            #expect(events.count == 2)
            #expect(server.pipeline.conflictsReported == 0)
        }
    }
}

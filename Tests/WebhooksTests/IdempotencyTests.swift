import Inbox
import Testing
import TestSupport
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// Duplicates are acknowledged and not dispatched again; conflicts are reported.
@Suite struct IdempotencyTests {
    /// Posts `callback` `count` times at once; returns the statuses.
    private func deliverConcurrently(_ callback: SignedCallback, count: Int, with client: WebhookClient) async throws -> [Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<count {
                group.addTask { try await client.deliver(callback).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test func aHundredConcurrentDeliveriesAfterHandlerRunTheHandlerOnce() async throws {
        let recorder = HandlerRecorder()
        let runs = Counter()
        let server = makeServer(recorder: recorder) { server in
            server.configuration.paymentRoutes = [PaymentRoute(path: "/trustpay/payment", dispatch: .afterHandler)]
            server.onPayment { _ in
                runs.increment()
                try await Task.sleep(for: .milliseconds(300))  // keep it in progress while the copies arrive
            }
        }
        try await withWebhookTestServer(server) { server in
            let callback = factory.payment(orderNo: "ONCE-SYNC", status: .unliquidated)
            let statuses = try await deliverConcurrently(callback, count: 100, with: server.client)
            // Copies wait for the first run and are acknowledged with it (or, past the deadline, get 409).
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(Set(statuses))")
            #expect(statuses.contains(200))
            #expect(runs.count == 1)
            #expect(recorder.payments.count == 1)
            #expect(try await server.client.deliver(callback).isAcknowledgement)
            #expect(runs.count == 1)
        }
    }

    @Test func aRepeatWithDifferentSignedContentIsAConflict() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let first = factory.payment(orderNo: "CONFLICT", status: .unliquidated)
            let changed = first.resigned { $0["paid_amount"] = .number("105") }
            #expect(try await server.client.deliver(first).isAcknowledgement)
            #expect(try await server.client.deliver(changed).isAcknowledgement)
            let reports = try await recorder.waitForConflicts(1)
            #expect(reports[0].count == 1)
            #expect(reports[0].existing.orderNo == "CONFLICT")
            #expect(reports[0].conflictingBody == changed.body)
            #expect(reports[0].conflictingContentHash != reports[0].existing.contentHash)
            // Reordering fields or adding an empty one is the same signed content: a duplicate.
            let reordered = SignedCallback(
                fields: try JSONObject(first.fields.reversed().map { ($0.key, $0.value) } + [("refund_amount", .null)]),
                path: first.path, secret: merchant.secret)
            #expect(try await server.client.deliver(reordered).isAcknowledgement)
            #expect(try await server.client.deliver(changed).isAcknowledgement)
            let again = try await recorder.waitForConflicts(2)
            #expect(again[1].count == 2)
            #expect(server.pipeline.conflictsReported == 2)
            let events = try await recorder.waitForPayments(1)
            #expect(events.count == 1 && events[0].callback.paidAmount == Amount.of("106"))
            let stored = try await server.storedEvents(EventFilter())
            #expect(stored.count == 1 && stored[0].conflicts == 2)
        }
    }

    @Test func theIdempotencyKeyCoversRefundNumbersButNotTheirOrder() throws {
        let one = factory.payment(orderNo: "K", status: .partiallyRefunded, refundNos: ["RF-1", "RF-2"])
        let swapped = factory.payment(orderNo: "K", status: .partiallyRefunded, refundNos: ["RF-2", "RF-1"])
        let more = factory.payment(orderNo: "K", status: .partiallyRefunded, refundNos: ["RF-1", "RF-2", "RF-3"])
        let payout = factory.payment(.payout, orderNo: "K", status: .partiallyRefunded)
        func key(_ callback: SignedCallback) throws -> IdempotencyKey {
            .payment(try PaymentCallback(body: callback.body))
        }
        #expect(try key(one) == key(swapped))
        #expect(try key(one) != key(more))
        #expect(try key(one) != key(payout))
        #expect(try key(one).rawValue == #"["payment",8820250900009,0,"K",8,["RF-1","RF-2"]]"#)
    }
}

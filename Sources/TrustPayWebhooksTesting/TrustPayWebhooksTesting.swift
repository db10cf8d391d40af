// Testing tools for merchants (and for this project's own tests): signed
// TrustPay callbacks for any status, a client that delivers them to a running
// server over HTTP or to a pipeline in-process, a recorder of what the
// handlers saw, and the contract an idempotency store of your own must keep
// (`IdempotencyStoreContract`, in `InboxTesting`, which this product also holds).
//
// ```swift
// let merchant = TestMerchant(id: 8820250900009, secret: "test-secret")
// var webhooks = WebhookServer(merchants: [merchant.merchant])
// let recorder = HandlerRecorder()
// recorder.register(on: &webhooks)
// try await withWebhookTestServer(webhooks) { server in
//     let response = try await server.client.deliver(CallbackFactory(merchant: merchant).payment(orderNo: "A1", status: .unliquidated))
//     #expect(response.status == 200)
//     let seen = try await recorder.waitForPayments(1)
//     #expect(seen[0].callback.orderNo == "A1")
// }
// ```

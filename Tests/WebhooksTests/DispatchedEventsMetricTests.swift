import Foundation
import Inbox
import MetricsTestKit
import Testing
import TrustPay
import TrustPayWebhooksTesting

@testable import Webhooks

/// `trustpay_webhooks_dispatched_events_total{via=…}`: events the workers
/// took from the hand-off and events they claimed from the store, apart,
/// so that the share claimed (a write more each) shows under load.
@Suite struct DispatchedEventsMetricTests {
    /// Three events recorded pending (as with a full hand-off) are claimed,
    /// two handed over; each is counted once, by its way. Fails without the
    /// counter (no such series) or with the two ways swapped.
    @Test func handedOverAndClaimedEventsAreCountedApart() async throws {
        let metrics = TestMetrics()
        let store = OutageStore()
        let recorder = HandlerRecorder()
        let server = makeServer(store: store, recorder: recorder) { server in
            server.configuration.workers = 1
        }
        let pipeline = WebhookPipeline(
            configuration: server.configuration, handlers: server.handlers, store: store, logger: testLogger,
            metrics: PipelineMetrics(factory: metrics))
        let workers = Task { await pipeline.runWorkers() }
        let client = WebhookClient(pipeline: pipeline)
        store.handOver(false)
        for index in 0..<3 {
            #expect(try await client.deliver(factory.payment(orderNo: "CLAIMED-\(index)", status: .paid)).isAcknowledgement)
        }
        _ = try await recorder.waitForPayments(3)
        store.handOver(true)
        for index in 0..<2 {
            #expect(try await client.deliver(factory.payment(orderNo: "HANDED-\(index)", status: .paid)).isAcknowledgement)
        }
        _ = try await recorder.waitForPayments(5)
        workers.cancel()
        await workers.value
        let label = "trustpay_webhooks_dispatched_events_total"
        #expect(try metrics.expectCounter(label, [("via", "claim")]).totalValue == 3)
        #expect(try metrics.expectCounter(label, [("via", "hand_off")]).totalValue == 2)
    }
}

import Foundation
import Inbox
import Testing
import TestSupport
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// Failing handlers are retried with backoff, then dead-lettered, and can be replayed.
@Suite struct RetryTests {
    @Test func aFailingHandlerIsRetriedThenDeadLetteredThenReplayed() async throws {
        let recorder = HandlerRecorder()
        let healed = Counter()
        let server = makeServer(recorder: recorder) { server in
            server.onPayment { event in
                if healed.count == 0 { throw HandlerError(text: "ledger offline (attempt \(event.attempt.number))") }
            }
        }
        try await withWebhookTestServer(server) { server in
            #expect(try await server.client.deliver(factory.payment(orderNo: "DLQ", status: .unliquidated)).isAcknowledgement)
            // The recorder runs before the failing handler, so it sees every attempt.
            let attempts = try await recorder.waitForPayments(3)
            #expect(attempts.map(\.attempt.number) == [1, 2, 3])
            #expect(Set(attempts.map(\.eventID)).count == 1)
            try await eventually("a dead letter") { try await server.pipeline.deadLetters().count == 1 }
            let dead = try await server.pipeline.deadLetters()[0]
            #expect(dead.event.attempts == 3)
            #expect(dead.error.contains("ledger offline (attempt 3)"))
            #expect(dead.event.orderNo == "DLQ")
            #expect(recorder.payments.count == 3)  // no fourth attempt

            healed.increment()
            let replayed = try await server.pipeline.replay(eventID: dead.event.id)
            #expect(replayed?.state == .pending)
            let afterReplay = try await recorder.waitForPayments(4)
            #expect(afterReplay[3].attempt.number == 1)
            #expect(afterReplay[3].eventID == dead.event.id)
            try await eventually("the replayed event to complete") {
                try await server.store.event(id: dead.event.id)?.state.name == .completed
            }
            #expect(try await server.pipeline.deadLetters().isEmpty)
        }
    }

    @Test func aHandlerThatOverrunsItsTimeoutCountsAsFailed() async throws {
        let recorder = HandlerRecorder()
        let server = makeServer(recorder: recorder) { server in
            server.configuration.handlerTimeout = .milliseconds(100)
            server.configuration.retrySchedule = RetrySchedule(maxAttempts: 1)
            server.onPayment { _ in try await Task.sleep(for: .seconds(30)) }
        }
        try await withWebhookTestServer(server) { server in
            #expect(try await server.client.deliver(factory.payment(orderNo: "SLOW", status: .paid)).isAcknowledgement)
            try await eventually("a dead letter") { try await server.pipeline.deadLetters().count == 1 }
            #expect(try await server.pipeline.deadLetters()[0].error.contains("did not finish within"))
        }
    }

    @Test func afterHandlerAnswers500UntilTheHandlerSucceeds() async throws {
        let recorder = HandlerRecorder()
        let failuresLeft = Counter()
        let server = makeServer(recorder: recorder) { server in
            server.configuration.paymentRoutes = [PaymentRoute(path: "/trustpay/payment", dispatch: .afterHandler)]
            // Retries come from redeliveries here, not the workers.
            server.configuration.retrySchedule = RetrySchedule(maxAttempts: 5, initialDelay: .seconds(60))
            server.onPayment { _ in
                if failuresLeft.increment() <= 1 { throw HandlerError(text: "first try fails") }
            }
        }
        try await withWebhookTestServer(server) { server in
            let callback = factory.payment(orderNo: "SYNC", status: .unliquidated)
            let first = try await server.client.deliver(callback)
            #expect(first.status == 500 && first.errorCode == "handler_failed")
            let stored = try #require(try await server.storedEvents(EventFilter()).first)
            #expect(stored.state.name == .waitingRetry)
            #expect(stored.lastError?.contains("first try fails") == true)
            // TrustPay delivers again: this request runs the handlers now.
            #expect(try await server.client.deliver(callback).isAcknowledgement)
            #expect(recorder.payments.map(\.attempt.number) == [1, 2])
            #expect(try await server.store.event(id: stored.id)?.state.name == .completed)
            #expect(try await server.client.deliver(callback).isAcknowledgement)
            #expect(recorder.payments.count == 2)
        }
    }

    @Test func theScheduleBacksOffExponentiallyWithBoundedJitter() throws {
        let schedule = RetrySchedule(
            maxAttempts: 6, initialDelay: .seconds(1), multiplier: 2, maxDelay: .seconds(10), jitter: 0.5)
        #expect(schedule.delay(afterAttempt: 1, random: 0) == .seconds(1))
        #expect(schedule.delay(afterAttempt: 2, random: 0) == .seconds(2))
        #expect(schedule.delay(afterAttempt: 3, random: 0) == .seconds(4))
        #expect(schedule.delay(afterAttempt: 4, random: 0) == .seconds(8))
        #expect(schedule.delay(afterAttempt: 5, random: 0) == .seconds(10))  // capped
        #expect(schedule.delay(afterAttempt: 6, random: 0) == nil)  // last attempt: dead letter next
        #expect(schedule.delay(afterAttempt: 3, random: 0.999) == .milliseconds(2002))
        for _ in 0..<100 {
            let delay = try #require(schedule.delay(afterAttempt: 2))
            #expect(delay >= .seconds(1) && delay <= .seconds(2))
        }
        #expect(RetrySchedule(maxAttempts: 0).maxAttempts == 1)
    }
}

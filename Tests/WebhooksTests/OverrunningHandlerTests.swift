import Foundation
import Inbox
import Testing
import TestSupport
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// A worker runs its handlers in its own task (`WorkerShift`), not in a task
/// per attempt; a handler that overruns the handler timeout and ignores its
/// cancellation must still cost only its own attempt: recorded as timed out
/// within the timeout, the worker carrying on with the next events, and a
/// graceful shutdown not waiting for it.
@Suite struct OverrunningHandlerTests {
    /// One worker, one event at a time: every event after STUCK is handled
    /// while STUCK's handler is still suspended, and the server shuts down
    /// around it. Fails with the supervisor's restart of the runner removed
    /// (NEXT-0 is never handled) or with a shutdown that waits for the
    /// abandoned runner (the test never returns).
    @Test func aHandlerThatIgnoresItsDeadlineCostsOnlyItsOwnAttempt() async throws {
        let recorder = HandlerRecorder()
        let gate = SuspensionGate()
        let server = oneWorkerServer(recorder: recorder, timeout: .milliseconds(200), stuckUntil: gate)
        try await withWebhookTestServer(server) { server in
            #expect(try await server.client.deliver(factory.payment(orderNo: "STUCK", status: .paid)).isAcknowledgement)
            try await eventually("the handler suspended") { gate.arrived == 1 }
            for index in 0..<3 {
                let callback = factory.payment(orderNo: "NEXT-\(index)", status: .paid)
                #expect(try await server.client.deliver(callback).isAcknowledgement)
            }
            try await eventually("the next events completed") {
                let events = try await server.storedEvents(EventFilter())
                return events.filter { $0.orderNo.hasPrefix("NEXT-") && $0.state.name == .completed }.count == 3
            }
            try await eventually("STUCK a dead letter") { try await server.pipeline.deadLetters().count == 1 }
            let dead = try await server.pipeline.deadLetters()[0]
            #expect(dead.event.orderNo == "STUCK")
            #expect(dead.error.contains("did not finish within"))
            #expect(dead.event.attempts == 1)
            #expect(recorder.payments.map(\.callback.orderNo).sorted() == ["NEXT-0", "NEXT-1", "NEXT-2", "STUCK"])
        }
        // The server has shut down with STUCK's handler still suspended.
        gate.open()
    }

    /// Two events in one batch: the one whose handler returns in time is
    /// completed, the other recorded as timed out; neither is held up by
    /// the other.
    @Test func aBatchSiblingOfAnOverrunningHandlerCompletes() async throws {
        let recorder = HandlerRecorder()
        let gate = SuspensionGate()
        let firstMayFinish = Flag()
        let server = makeServer(recorder: recorder) { server in
            server.configuration.workers = 1
            server.configuration.claimBatch = 2
            server.configuration.handlerTimeout = .milliseconds(300)
            server.configuration.retrySchedule = RetrySchedule(maxAttempts: 1)
            server.onPayment { event in
                switch event.callback.orderNo {
                case "FIRST": try await eventually("the test to release FIRST") { firstMayFinish.isSet }
                case "STUCK": await gate.wait()
                default: break
                }
            }
        }
        try await withWebhookTestServer(server) { server in
            // FIRST holds the worker while STUCK and QUICK queue up, to be
            // taken as one batch (on a slow machine FIRST may time out first:
            // then they run one after the other, and the same must hold).
            #expect(try await server.client.deliver(factory.payment(orderNo: "FIRST", status: .paid)).isAcknowledgement)
            _ = try await recorder.waitForPayments(1)
            #expect(try await server.client.deliver(factory.payment(orderNo: "STUCK", status: .paid)).isAcknowledgement)
            #expect(try await server.client.deliver(factory.payment(orderNo: "QUICK", status: .paid)).isAcknowledgement)
            firstMayFinish.set()
            try await eventually("STUCK a dead letter") {
                try await server.pipeline.deadLetters().contains { $0.event.orderNo == "STUCK" }
            }
            try await eventually("QUICK completed") {
                try await server.storedEvents(EventFilter()).contains { $0.orderNo == "QUICK" && $0.state.name == .completed }
            }
        }
        gate.open()
    }

    /// The shift keeps one alarm, set by the first attempt: an attempt that
    /// begins while it is set (QUICK's, here) and overruns must still be
    /// taken out at its own deadline, the alarm set again for it when it
    /// fires early for the attempt that set it. Fails (STUCK never becomes
    /// a dead letter) when a fired alarm that finds nothing overdue is not
    /// set again.
    @Test func anAttemptBegunWhileTheShiftsAlarmIsSetTimesOutAtItsOwnDeadline() async throws {
        let recorder = HandlerRecorder()
        let gate = SuspensionGate()
        let server = oneWorkerServer(recorder: recorder, timeout: .milliseconds(400), stuckUntil: gate)
        try await withWebhookTestServer(server) { server in
            #expect(try await server.client.deliver(factory.payment(orderNo: "QUICK", status: .paid)).isAcknowledgement)
            _ = try await recorder.waitForPayments(1)
            #expect(try await server.client.deliver(factory.payment(orderNo: "STUCK", status: .paid)).isAcknowledgement)
            do {
                try await eventually("STUCK a dead letter", timeout: .seconds(15)) {
                    try await server.pipeline.deadLetters().contains { $0.event.orderNo == "STUCK" }
                }
            } catch {
                gate.open()  // else the shutdown would wait for STUCK's handler, and the test never end
                throw error
            }
            let dead = try await server.pipeline.deadLetters().first { $0.event.orderNo == "STUCK" }
            #expect(dead?.error.contains("did not finish within") == true)
            #expect(try await server.storedEvents(EventFilter()).contains { $0.orderNo == "QUICK" && $0.state.name == .completed })
        }
        gate.open()
    }

    /// One worker taking one event at a time, a single attempt per event,
    /// and a payment handler that suspends on `gate` for the order STUCK.
    private func oneWorkerServer(recorder: HandlerRecorder, timeout: Duration, stuckUntil gate: SuspensionGate) -> WebhookServer {
        makeServer(recorder: recorder) { server in
            server.configuration.workers = 1
            server.configuration.claimBatch = 1
            server.configuration.handlerTimeout = timeout
            server.configuration.retrySchedule = RetrySchedule(maxAttempts: 1)
            server.onPayment { event in
                if event.callback.orderNo == "STUCK" { await gate.wait() }
            }
        }
    }
}

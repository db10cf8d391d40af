import Dispatch
import Foundation
import HTTPServer
import Synchronization
import Testing
import TrustPayWebhooksTesting
import Webhooks

/// The documentation promises that handlers run on the server's handler
/// executor, never on Swift's cooperative pool: a handler that blocks its
/// thread (a synchronous database driver, a `sleep`) must not stall the
/// rest of the process.
@Suite struct BlockingHandlerTests {
    /// As many payment handlers as the cooperative pool has threads (and
    /// more) block their threads; while they are still blocked, a task on the
    /// cooperative pool runs and `/healthz` answers. No timings: each step
    /// either happens before the handlers are let go or the test fails.
    ///
    /// Failed when the dispatch service dropped its executor preference (the
    /// handlers then ran on the cooperative pool): the probe task only ran
    /// once the watchdog had let the handlers go.
    @Test func blockingPaymentHandlersDoNotStarveTheCooperativePool() async throws {
        // The handler executor has a thread per core, as the cooperative pool does.
        let width = HTTPServerConfiguration.coreCount
        let count = max(4, width)
        let gate = ThreadGate()
        let delivered = Flag()
        // If the pool is starved, nothing in this test runs again until the
        // handlers are let go: a plain thread does it, and the checks below fail.
        // 60 s, not 20: in whole-suite runs on a machine at load 13-25 the
        // four deliveries alone took longer than 20 s (the handlers had not
        // all blocked yet when the watchdog let them go), with no starvation.
        gate.open(afterSeconds: 60)
        let server = makeServer(recorder: HandlerRecorder()) { server in
            server.configuration.workers = count
            server.configuration.claimBatch = 1
            server.configuration.handlerTimeout = .seconds(120)
            server.configuration.leaseDuration = .seconds(240)
            server.onPayment { _ in
                // Requests need a handler thread too: block only once all are answered.
                try await eventually("every callback acknowledged") { delivered.isSet }
                gate.block()
            }
        }
        try await withWebhookTestServer(server) { server in
            for index in 0..<count {
                let callback = factory.payment(orderNo: "BLOCKING-\(index)", status: .paid)
                #expect(try await server.client.deliver(callback).isAcknowledgement)
            }
            delivered.set()
            try await eventually("every handler thread blocked") { gate.blocked >= width || gate.isOpen }
            #expect(!gate.isOpen, "the handlers were let go by the watchdog before all of them blocked")

            let probeRanWhileBlocked = await Task.detached { !gate.isOpen }.value
            let health = try await server.client.get("/healthz")
            let healthWhileBlocked = !gate.isOpen
            gate.open()

            #expect(probeRanWhileBlocked, "a cooperative-pool task waited for the blocked handlers")
            #expect(health.status == 200)
            #expect(healthWhileBlocked, "/healthz waited for the blocked handlers")
            try await eventually("every blocked handler to finish") { gate.passed == count }
        }
    }
}

/// Blocks the calling thread (not the task) until opened.
private final class ThreadGate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let opened = Atomic<Bool>(false)
    private let blockedCount = Atomic<Int>(0)
    private let passedCount = Atomic<Int>(0)

    var isOpen: Bool { opened.load(ordering: .sequentiallyConsistent) }
    var blocked: Int { blockedCount.load(ordering: .sequentiallyConsistent) }
    var passed: Int { passedCount.load(ordering: .sequentiallyConsistent) }

    /// Deliberately synchronous: the thread is blocked, as by a blocking driver.
    func block() {
        if !isOpen {
            blockedCount.add(1, ordering: .sequentiallyConsistent)
            semaphore.wait()
            semaphore.signal()  // opened: let the next one through too
        }
        passedCount.add(1, ordering: .sequentiallyConsistent)
    }

    func open() {
        guard !opened.exchange(true, ordering: .sequentiallyConsistent) else { return }
        semaphore.signal()
    }

    /// Opens from a thread of its own (not the cooperative pool) unless
    /// opened before.
    func open(afterSeconds seconds: Int) {
        Thread.detachNewThread { [self] in
            for _ in 0..<(seconds * 10) where !isOpen { usleep(100_000) }
            open()
        }
    }
}

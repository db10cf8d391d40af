import Deadlines
import Durations
import Foundation
import Inbox
import Logging
import TrustPay

/// Runs the handlers of one claimed event and records how it went: completed,
/// waiting for a retry, or dead. Used by the workers and by requests that
/// answer after their handlers.
struct Dispatcher: Sendable {
    let handlers: Handlers
    let store: any IdempotencyStore
    let retrySchedule: RetrySchedule
    let handlerTimeout: Duration
    let logger: Logger
    let metrics: PipelineMetrics
    /// Notified with an event id whenever its attempt ends.
    let finished: Waiters<String>
    /// Wakes the workers when a retry falls due.
    let retryAlarm: RetryAlarm

    /// How one attempt ended.
    enum Result: Sendable, Equatable {
        case completed
        case willRetry
        case dead
        /// The outcome could not be recorded (store down, lease lost): the
        /// lease will expire and someone will run the event again.
        case unrecorded
    }

    /// For a request that answers after the handlers: they run in a task
    /// of their own, abandoned at the handler timeout (``withDeadline``), so
    /// that the request has its answer by then.
    ///
    /// `decoded`: the callback as the intake decoded it from this event's
    /// body, if this process has it; otherwise the body is decoded again.
    func run(_ event: InboxEvent, owner: String, decoded: DecodedCallback? = nil) async -> Result {
        guard startable(event) else { return .unrecorded }
        let startedAt = Date()
        let failure: HandlerFailure?
        switch handlerWork(event, decoded: decoded) {
        case .failure(let undecodable):
            failure = undecodable
        case .success(let work):
            // One that overruns is cancelled and abandoned, so that the
            // outcome is recorded within the lease.
            switch await withDeadline(handlerTimeout, work) {
            case .finished: failure = nil
            case .failed(let error): failure = .threw(String(describing: error))
            case .timedOut: failure = .timedOut(handlerTimeout)
            }
        }
        return await record(event, owner: owner, startedAt: startedAt, failure: failure)
    }

    /// For a worker: the handlers run in the worker's own task. If they
    /// overrun the handler timeout, or the worker is cancelled first, the
    /// attempt is the worker's supervisor's to record (see ``WorkerShift``)
    /// and this returns whenever the handlers do, recording nothing.
    func run(_ event: InboxEvent, owner: String, decoded: DecodedCallback?, in shift: WorkerShift) async {
        guard let ending = await attempt(event, owner: owner, decoded: decoded, in: shift) else { return }
        await record(ending)
    }

    /// An attempt whose handlers returned (or never started: a body that no
    /// longer decodes), and whose outcome is its runner's to record.
    struct Ending: Sendable {
        let event: InboxEvent
        let owner: String
        let startedAt: Date
        let failure: HandlerFailure?
    }

    /// ``run(_:owner:decoded:in:)`` up to the record: runs the handlers and
    /// returns how they ended, or `nil` when there is nothing for the caller
    /// to record (a claim that came back too late, or an attempt the
    /// worker's supervisor took over). A worker that pipelines its batches
    /// (see ``DispatchWorkers``) records each ending in its own time.
    func attempt(
        _ event: InboxEvent, owner: String, decoded: DecodedCallback?, in shift: WorkerShift
    ) async -> Ending? {
        guard startable(event) else { return nil }
        let startedAt = Date()
        var failure: HandlerFailure? = nil
        switch handlerWork(event, decoded: decoded) {
        case .failure(let undecodable):
            failure = undecodable
        case .success(let work):
            let ticket = shift.begin(event, owner: owner, startedAt: startedAt)
            do { try await work() } catch { failure = .threw(String(describing: error)) }
            guard shift.finish(ticket) else { return nil }
        }
        return Ending(event: event, owner: owner, startedAt: startedAt, failure: failure)
    }

    /// Records an attempt's ending as ``run(_:owner:decoded:in:)`` does.
    func record(_ ending: Ending) async {
        _ = await record(ending.event, owner: ending.owner, startedAt: ending.startedAt, failure: ending.failure)
    }

    /// Records an attempt a worker's supervisor took over: it overran, or
    /// its worker was cancelled.
    func record(_ attempt: WorkerShift.Attempt, failure: HandlerFailure) async {
        _ = await record(attempt.event, owner: attempt.owner, startedAt: attempt.startedAt, failure: failure)
    }

    /// Whether the claim left time for a whole attempt. The lease was set
    /// from the clock before the claim; a claim that came back late (a slow
    /// database, a starved process) may not cover a whole attempt any more,
    /// and another worker may take the event over while the handler runs.
    /// Leave it to expire instead.
    private func startable(_ event: InboxEvent) -> Bool {
        if case .processing(_, let leaseUntil) = event.state, leaseUntil.timeIntervalSinceNow < handlerTimeout.seconds {
            EventLogger(logger: logger, event: event).warning(
                "the claim came back too late to run within its lease; the event will run again when it expires")
            metrics.attempt(.lateClaim)
            finished.notify(event.id)
            return false
        }
        return true
    }

    /// Records how an attempt ended: completed, waiting for a retry, or dead.
    private func record(
        _ event: InboxEvent, owner: String, startedAt: Date, failure: HandlerFailure?
    ) async -> Result {
        // Built only for lines the log level lets through: most attempts log nothing.
        let logger = EventLogger(logger: logger, event: event)
        defer { finished.notify(event.id) }
        let now = Date()
        let record = HandlerAttempt(
            number: event.attempts, startedAt: startedAt, endedAt: now, outcome: failure?.outcome ?? .handled,
            error: failure?.description)
        do {
            guard failure != nil else {
                guard try await store.complete(id: event.id, owner: owner, attempt: record) else { return lost(logger) }
                logger.debug("handlers completed")
                metrics.attempt(.completed)
                return .completed
            }
            if let delay = retrySchedule.delay(afterAttempt: event.attempts) {
                let retryAt = now.addingTimeInterval(delay.seconds)
                guard try await store.fail(id: event.id, owner: owner, attempt: record, retryAt: retryAt)
                else { return lost(logger) }
                logger.warning("handler attempt failed; will retry", metadata: ["retry_in": "\(delay)"])
                metrics.attempt(.retry)
                retryAlarm.schedule(after: delay)
                return .willRetry
            }
            guard try await store.deadLetter(id: event.id, owner: owner, attempt: record)
            else { return lost(logger) }
            logger.error("handler attempts exhausted; event is a dead letter")
            metrics.attempt(.deadLetter)
            return .dead
        } catch {
            logger.error("could not record the handler outcome; the event will run again when its lease expires")
            return .unrecorded
        }
    }

    private func lost(_ logger: EventLogger) -> Result {
        logger.warning("lease lost before the handler outcome was recorded")
        return .unrecorded
    }

    /// Every handler of the event's kind, in order, as one operation; a
    /// failure if the stored body no longer decodes.
    private func handlerWork(
        _ event: InboxEvent, decoded: DecodedCallback?
    ) -> Swift.Result<@Sendable () async throws -> Void, HandlerFailure> {
        let delivery = DeliveryAttempt(eventID: event.id, number: event.attempts, receivedAt: event.receivedAt)
        switch event.kind {
        case .payment:
            let callback: PaymentCallback
            if case .payment(let known) = decoded {
                callback = known
            } else {
                do {
                    callback =
                        switch event.source {
                        case .callback: try PaymentCallback(body: event.rawBody)
                        case .orderQuery: try PaymentCallback(orderQueryAnswer: event.rawBody)
                        }
                } catch {
                    return .failure(.undecodable(error.description))
                }
            }
            let paymentEvent = PaymentEvent(
                callback: callback, attempt: delivery, previousStatus: event.previousStatus.map(OrderStatus.init(code:)),
                isStale: event.isStale, source: event.source)
            let handlers = handlers.payment
            return .success { for handler in handlers { try await handler(paymentEvent) } }
        case .card:
            let callback: CardCallback
            if case .card(let known) = decoded {
                callback = known
            } else {
                do { callback = try CardCallback(body: event.rawBody) } catch { return .failure(.undecodable(error.description)) }
            }
            let cardEvent = CardEvent(
                callback: callback, merchantID: event.merchantID, attempt: delivery,
                previousStatus: event.previousStatus, source: event.source)
            let handlers = handlers.card
            return .success { for handler in handlers { try await handler(cardEvent) } }
        }
    }
}

/// The dispatcher's logger with the event's metadata, made only for a line
/// that is written.
private struct EventLogger {
    let logger: Logger
    let event: InboxEvent

    private var metadata: Logger.Metadata {
        [
            "event_id": "\(event.id)", "merchant_id": "\(event.merchantID)",
            "order_no": "\(LogText.escaped(event.orderNo))", "status": "\(event.status)",
            "attempt": "\(event.attempts)",
        ]
    }

    func debug(_ message: @autoclosure () -> Logger.Message) {
        logger.debug(message(), metadata: metadata)
    }

    func warning(_ message: @autoclosure () -> Logger.Message, metadata extra: @autoclosure () -> Logger.Metadata = [:]) {
        logger.warning(message(), metadata: metadata.merging(extra()) { $1 })
    }

    func error(_ message: @autoclosure () -> Logger.Message) {
        logger.error(message(), metadata: metadata)
    }
}

import Foundation
import HTTPServer
import Inbox
import Logging

extension WebhookPipeline {
    /// Records a verified event and answers according to the route's dispatch mode.
    func accept(_ new: NewInboxEvent, mode: DispatchMode) async -> HTTPResponse {
        var logger = logger
        logger[metadataKey: "merchant_id"] = "\(new.merchantID)"
        logger[metadataKey: "order_no"] = "\(LogText.escaped(new.orderNo))"
        logger[metadataKey: "status"] = "\(new.status)"
        let lease = mode == .afterHandler ? Lease(owner: requestLeaseOwner(), duration: configuration.leaseDuration) : nil
        let outcome: RecordOutcome
        do {
            outcome = try await store.record(new, lease: lease, now: Date())
        } catch {
            logger.error(
                "callback not stored: the store is unavailable; answering 503 so TrustPay delivers again",
                metadata: ["error": "\(error)"])
            PipelineMetrics.stored("unavailable", kind: "\(new.kind)")
            return Rejection.storeUnavailable.response
        }
        logger[metadataKey: "event_id"] = "\(outcome.event.id)"
        switch outcome {
        case .recorded(let event):
            PipelineMetrics.stored("recorded", kind: "\(event.kind)")
            logger.info("\(event.kind) event recorded", metadata: event.isStale ? ["stale": "true"] : [:])
            guard let lease else {
                wakeWorkers()
                return Answer.acknowledged
            }
            return await answerAfterHandlers(event, owner: lease.owner)
        case .duplicate(let event):
            PipelineMetrics.stored("duplicate", kind: "\(event.kind)")
            logger.debug("duplicate callback")
            return mode == .afterStore ? Answer.acknowledged : await answerDuplicateAfterHandlers(event)
        case .conflict(let event):
            PipelineMetrics.stored("conflict", kind: "\(event.kind)")
            logger.warning("conflicting callback: same event, different signed content", metadata: ["conflicts": "\(event.conflicts)"])
            report(ConflictReport(
                existing: event, conflictingBody: new.rawBody, conflictingContentHash: new.contentHash,
                count: event.conflicts, receivedAt: new.receivedAt))
            return Answer.acknowledged
        }
    }

    /// Runs the handlers of an event this request holds: `200` only if they all succeeded.
    private func answerAfterHandlers(_ event: InboxEvent, owner: String) async -> HTTPResponse {
        switch await dispatcher.run(event, owner: owner) {
        case .completed: Answer.acknowledged
        case .willRetry, .dead, .unrecorded: Rejection.handlerFailed.response
        }
    }

    /// A repeat of an after-handler event: `200` once it is completed; if it is
    /// waiting to retry, this request runs it; if someone else is running it,
    /// wait for them up to the handler timeout, then `409`.
    private func answerDuplicateAfterHandlers(_ first: InboxEvent) async -> HTTPResponse {
        let deadline = ContinuousClock.now + configuration.handlerTimeout
        var current = first
        do {
            while true {
                switch current.state {
                case .completed:
                    return Answer.acknowledged
                case .dead:
                    return Rejection.deadLetter.response
                case .pending, .waitingRetry, .processing:
                    let owner = requestLeaseOwner()
                    if let claimed = try await store.claim(
                        id: current.id, owner: owner, leaseDuration: configuration.leaseDuration, now: Date())
                    {
                        return await answerAfterHandlers(claimed, owner: owner)
                    }
                }
                let remaining = ContinuousClock.now.duration(to: deadline)
                guard remaining > .zero else { return Rejection.inProgress.response }
                // Woken when the attempt in progress ends; the short time-out
                // covers an end that happened between reading and waiting.
                await finished.wait(for: current.id, timeout: min(remaining, .milliseconds(50)))
                guard let latest = try await store.event(id: current.id) else { return Answer.acknowledged }
                current = latest
            }
        } catch {
            return Rejection.storeUnavailable.response
        }
    }

    /// Hands a conflict to the conflict handlers without delaying the
    /// answer: the dispatch service runs them (see ``ConflictReports``).
    private func report(_ conflict: ConflictReport) {
        countConflict()
        guard !handlers.conflict.isEmpty else { return }
        conflictReports.enqueue(conflict)
    }
}

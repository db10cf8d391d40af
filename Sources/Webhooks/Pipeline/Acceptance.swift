import Foundation
import HTTPServer
import Inbox
import Logging

extension WebhookPipeline {
    /// Records a verified event and answers according to the route's dispatch mode.
    /// `decoded` is the callback the intake decoded from the event's body,
    /// handed on so that the dispatch does not decode it again.
    func accept(_ new: NewInboxEvent, decoded: DecodedCallback, mode: DispatchMode) async -> HTTPResponse {
        // After store: leased to this process's workers if its order is idle
        // and the hand-off has room (reserved now, so that a granted lease
        // finds it); else pending, for a worker to claim.
        let handingOff = mode == .afterStore && handOff.reserve()
        let lease: LeaseRequest =
            switch mode {
            case .afterHandler: .always(Lease(owner: requestLeaseOwner(), duration: configuration.leaseDuration))
            case .afterStore:
                handingOff ? .ifFirstOfOrder(Lease(owner: handOffOwner, duration: configuration.leaseDuration)) : .none
            }
        let outcome: RecordOutcome
        do {
            outcome = try await store.record(new, lease: lease, now: Date())
        } catch {
            if handingOff { handOff.release() }
            return unstored(new, error)
        }
        switch settle(outcome, of: new, decoded: decoded, lease: lease, mode: mode, handingOff: handingOff) {
        case .answer(let response): return response
        case .runHandlers(let event, let owner): return await answerAfterHandlers(event, owner: owner, decoded: decoded)
        case .answerAfterFirstDelivery(let event): return await answerDuplicateAfterHandlers(event)
        }
    }

    /// What follows a record: the answer, or the handlers to run first.
    private enum Settlement {
        case answer(HTTPResponse)
        case runHandlers(InboxEvent, owner: String)
        case answerAfterFirstDelivery(InboxEvent)
    }

    /// Everything after the record that does not wait, in a function of its
    /// own: inlined into `accept`, its temporaries (log metadata, the
    /// conflict report) made the request task's async frame 8 KiB (see
    /// ``Verification``). Gives the hand-off reservation back unless the
    /// event was handed over.
    @inline(never)
    private func settle(
        _ outcome: RecordOutcome, of new: NewInboxEvent, decoded: DecodedCallback, lease: LeaseRequest,
        mode: DispatchMode, handingOff: Bool
    ) -> Settlement {
        var handedOver = false
        defer { if handingOff && !handedOver { handOff.release() } }
        // Log metadata is built only for lines the log level lets through
        // (the arguments are autoclosures): at the default level a recorded
        // callback writes nothing and should cost nothing.
        switch outcome {
        case .recorded(let event):
            metrics.stored(.recorded, kind: event.kind)
            logger.info(
                "\(event.kind) event recorded",
                metadata: Self.metadata(of: new, eventID: event.id, event.isStale ? ["stale": "true"] : [:]))
            switch lease {
            case .always(let lease):
                return .runHandlers(event, owner: lease.owner)
            case .ifFirstOfOrder(let lease):
                if case .processing(let owner, _) = event.state, owner == lease.owner {
                    handOff.deliver(HandOff.Item(event: event, decoded: decoded))
                    handedOver = true
                    return .answer(Answer.acknowledged)
                }
                // Held behind an earlier event of its order: claimed in turn,
                // once that one finishes.
                pacing.expectHeld()
                fallthrough
            case .none:
                decodedCallbacks.keep(decoded, for: event.id)
                wakeWorkers()
                return .answer(Answer.acknowledged)
            }
        case .duplicate(let event):
            metrics.stored(.duplicate, kind: event.kind)
            logger.debug("duplicate callback", metadata: Self.metadata(of: new, eventID: event.id))
            return mode == .afterStore ? .answer(Answer.acknowledged) : .answerAfterFirstDelivery(event)
        case .conflict(let event):
            metrics.stored(.conflict, kind: event.kind)
            logger.warning(
                "conflicting callback: same event, different signed content",
                metadata: Self.metadata(of: new, eventID: event.id, ["conflicts": "\(event.conflicts)"]))
            report(ConflictReport(
                existing: event, conflictingBody: new.rawBody, conflictingContentHash: new.contentHash,
                count: event.conflicts, receivedAt: new.receivedAt))
            return .answer(Answer.acknowledged)
        }
    }

    /// The store failed: `503`, so that TrustPay delivers again.
    @inline(never)
    private func unstored(_ new: NewInboxEvent, _ error: any Error) -> HTTPResponse {
        logger.error(
            "callback not stored: the store is unavailable; answering 503 so TrustPay delivers again",
            metadata: Self.metadata(of: new, ["error": "\(error)"]))
        metrics.stored(.unavailable, kind: new.kind)
        return Rejection.storeUnavailable.response
    }

    /// What every log line about a callback carries.
    private static func metadata(
        of new: NewInboxEvent, eventID: String? = nil, _ extra: Logger.Metadata = [:]
    ) -> Logger.Metadata {
        var metadata = extra
        metadata["merchant_id"] = "\(new.merchantID)"
        metadata["order_no"] = "\(LogText.escaped(new.orderNo))"
        metadata["status"] = "\(new.status)"
        if let eventID { metadata["event_id"] = "\(eventID)" }
        return metadata
    }

    /// Runs the handlers of an event this request holds: `200` only if they all succeeded.
    private func answerAfterHandlers(_ event: InboxEvent, owner: String, decoded: DecodedCallback? = nil) async -> HTTPResponse {
        switch await dispatcher.run(event, owner: owner, decoded: decoded) {
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

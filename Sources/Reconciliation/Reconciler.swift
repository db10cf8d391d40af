import Foundation
import Inbox
import Logging
import TrustPay
import TrustPayAPI
import Webhooks

/// Asks TrustPay about one order and records what the answer shows that
/// the inbox does not hold: the step the sweep repeats and
/// `trustpay-webhooks reconcile --order-no` runs once.
///
/// The answer is recorded through the same store and key rule as callbacks
/// (`NewInboxEvent.reconciled(answer:receivedAt:)`), so a status the inbox
/// already holds is a duplicate and nothing changes. An answer that is not
/// a success (an unknown order, a refused API key, …) records nothing and
/// is logged and counted.
package struct Reconciler: Sendable {
    /// What one order query found.
    package enum Finding: Sendable {
        /// The answer told a status the inbox did not hold: recorded.
        case recorded(OrderQueryAnswer, InboxEvent)
        /// The answer's status is already held (by a callback or an earlier query).
        case known(OrderQueryAnswer, InboxEvent)
        /// The query failed, or TrustPay answered with an error code.
        case failed(TrustPayAPIError)
        /// A success answer that cannot be recorded (another order's, or without a status).
        case unusable(OrderQueryAnswer?, String)
        /// The store did not answer.
        case storeUnavailable(String)
        /// No API client for the merchant (no `api.key`).
        case notConfigured
    }

    /// The Order Query client (``TrustPayAPIClient`` or a fake).
    let client: any OrderQuerying
    /// Merchants whose orders can be queried: those with an API key.
    package let merchants: Set<Int64>
    /// Records an event (the pipeline's `recordReconciled`, which wakes the workers, or the store's `record`).
    let record: @Sendable (NewInboxEvent) async throws -> RecordOutcome
    let logger: Logger

    package init(
        client: any OrderQuerying, merchants: Set<Int64>,
        record: @escaping @Sendable (NewInboxEvent) async throws -> RecordOutcome, logger: Logger
    ) {
        self.client = client
        self.merchants = merchants
        self.record = record
        self.logger = logger
    }

    package func reconcile(orderNo: String, merchantID: Int64, now: Date = Date()) async -> Finding {
        var logger = logger
        logger[metadataKey: "merchant_id"] = "\(merchantID)"
        logger[metadataKey: "order_no"] = "\(LogText.escaped(orderNo))"
        guard merchants.contains(merchantID) else { return .notConfigured }
        let answer: OrderQueryAnswer
        do {
            answer = try await client.queryOrder(orderNo: orderNo, merchantID: merchantID)
        } catch {
            ReconciliationMetrics.query(Self.outcome(of: error))
            logger.warning("order query failed; nothing recorded", metadata: ["error": "\(error)"])
            return .failed(error)
        }
        guard answer.orderNo.utf8.elementsEqual(orderNo.utf8), answer.merchantID == merchantID || answer.merchantID == 0
        else {
            ReconciliationMetrics.query("unusable_answer")
            logger.warning(
                "order query answered about another order; nothing recorded",
                metadata: ["answer_order_no": "\(LogText.escaped(answer.orderNo))", "answer_merchant_id": "\(answer.merchantID)"])
            return .unusable(answer, "the answer is about order \(answer.orderNo) of merchant \(answer.merchantID)")
        }
        let event: NewInboxEvent
        do {
            event = try NewInboxEvent.reconciled(answer: answer.rawAnswer, receivedAt: now)
        } catch {
            ReconciliationMetrics.query("unusable_answer")
            logger.warning("order query answer cannot be recorded; nothing recorded", metadata: ["error": "\(error)"])
            return .unusable(answer, "\(error)")
        }
        let outcome: RecordOutcome
        do {
            outcome = try await record(event)
        } catch {
            ReconciliationMetrics.query("store_unavailable")
            logger.error("order query answered but the store is unavailable; will query again", metadata: ["error": "\(error)"])
            return .storeUnavailable("\(error)")
        }
        ReconciliationMetrics.query("success")
        switch outcome {
        case .recorded(let stored):
            ReconciliationMetrics.recovered()
            logger.info(
                "reconciled: recorded a status no callback told",
                metadata: ["status": "\(stored.status)", "event_id": "\(stored.id)", "stale": "\(stored.isStale)"])
            return .recorded(answer, stored)
        case .duplicate(let stored), .conflict(let stored):
            logger.debug("order query: status already recorded", metadata: ["status": "\(answer.statusCode)"])
            return .known(answer, stored)
        }
    }

    /// The metrics label of a failed query.
    static func outcome(of error: TrustPayAPIError) -> String {
        switch error {
        case .provider: "provider_error"
        case .httpStatus: "http_status"
        case .transport: "transport"
        case .timedOut: "timed_out"
        case .malformedAnswer: "malformed_answer"
        case .noCredentials: "no_credentials"
        }
    }
}

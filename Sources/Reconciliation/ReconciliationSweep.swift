import Durations
import Foundation
import Inbox
import Logging
import TrustPay
import Webhooks

/// Every ``ReconciliationPolicy/interval``: chooses the orders that may have
/// missed a callback (``ReconciliationStore/reconciliationCandidates(finalStatuses:quietSince:notBefore:limit:)``),
/// takes each one's query lease, and has the ``Reconciler`` query it and
/// record what is new. At most ``ReconciliationPolicy/concurrency`` queries
/// run at once; the API client bounds each merchant's rate.
///
/// With several replicas on one PostgreSQL database the lease (a row per
/// order, taken by a conditional update, held for one interval) lets one
/// replica query a given order at a time, and each order at most once per
/// interval between them.
package struct ReconciliationSweep: Sendable {
    /// What one sweep did.
    package struct Report: Sendable, Equatable {
        /// Orders chosen (the `orders waiting` gauge).
        package var waiting = 0
        /// Orders queried by this replica.
        package var queried: [String] = []
        /// Events recorded from answers.
        package var recorded = 0
        /// Orders of merchants without an API client.
        package var notConfigured = 0
        /// Orders whose lease another replica holds.
        package var leasedElsewhere = 0
        /// Queries that failed or answered an error.
        package var failed = 0
    }

    let store: any ReconciliationStore
    let reconciler: Reconciler
    let policy: ReconciliationPolicy
    /// This replica's lease owner name.
    let owner: String
    let logger: Logger

    package init(
        store: any ReconciliationStore, reconciler: Reconciler, policy: ReconciliationPolicy, owner: String,
        logger: Logger
    ) {
        self.store = store
        self.reconciler = reconciler
        self.policy = policy
        self.owner = owner
        self.logger = logger
    }

    /// Sweeps every interval until the calling task is cancelled; the first
    /// sweep runs at once (a restarted server catches up without waiting).
    package func run() async {
        while !Task.isCancelled {
            let report = await sweep(now: Date())
            if report.recorded > 0 || report.failed > 0 {
                logger.info(
                    "reconciliation sweep",
                    metadata: [
                        "waiting": "\(report.waiting)", "queried": "\(report.queried.count)",
                        "recorded": "\(report.recorded)", "failed": "\(report.failed)",
                    ])
            }
            try? await Task.sleep(for: policy.interval)
        }
    }

    /// One sweep at `now`.
    package func sweep(now: Date) async -> Report {
        var report = Report()
        let candidates: [ReconciliationCandidate]
        do {
            candidates = try await store.reconciliationCandidates(
                finalStatuses: policy.finalStatuses, quietSince: now.addingTimeInterval(-policy.after.seconds),
                notBefore: now.addingTimeInterval(-policy.maxAge.seconds), limit: policy.batchLimit)
        } catch {
            logger.warning("reconciliation cannot choose orders: the store is unavailable", metadata: ["error": "\(error)"])
            return report
        }
        do {
            // Past max_age an expected order is never queried; an ended lease guards nothing.
            try await store.forgetReconciliation(
                expectedBefore: now.addingTimeInterval(-policy.maxAge.seconds), leasesEndedBefore: now)
        } catch {
            logger.debug("reconciliation cannot forget old expected orders and leases", metadata: ["error": "\(error)"])
        }
        report.waiting = candidates.count
        ReconciliationMetrics.waiting(candidates.count)
        let merchants = reconciler.merchants
        let queryable = candidates.filter { merchants.contains($0.merchantID) }
        report.notConfigured = candidates.count - queryable.count
        let until = now.addingTimeInterval(policy.interval.seconds)

        let results = await withTaskGroup(of: (String, Outcome).self) { group in
            var results: [(String, Outcome)] = []
            var next = queryable.makeIterator()
            func add(_ candidate: ReconciliationCandidate) {
                group.addTask { (candidate.orderNo, await query(candidate, until: until, now: now)) }
            }
            for _ in 0..<policy.concurrency {
                guard let candidate = next.next() else { break }
                add(candidate)
            }
            while let result = await group.next() {
                results.append(result)
                if !Task.isCancelled, let candidate = next.next() { add(candidate) }
            }
            return results
        }
        for (orderNo, outcome) in results {
            switch outcome {
            case .leasedElsewhere: report.leasedElsewhere += 1
            case .queried(let finding):
                report.queried.append(orderNo)
                switch finding {
                case .recorded: report.recorded += 1
                case .known: break
                case .failed, .unusable, .storeUnavailable, .notConfigured: report.failed += 1
                }
            case .storeUnavailable: report.failed += 1
            }
        }
        return report
    }

    enum Outcome: Sendable {
        case leasedElsewhere
        case queried(Reconciler.Finding)
        case storeUnavailable
    }

    private func query(_ candidate: ReconciliationCandidate, until: Date, now: Date) async -> Outcome {
        do {
            guard try await store.takeQueryLease(order: candidate.order, owner: owner, until: until, now: now) else {
                return .leasedElsewhere
            }
        } catch {
            logger.warning("reconciliation cannot take an order's lease", metadata: ["error": "\(error)"])
            return .storeUnavailable
        }
        return .queried(await reconciler.reconcile(orderNo: candidate.orderNo, merchantID: candidate.merchantID))
    }
}

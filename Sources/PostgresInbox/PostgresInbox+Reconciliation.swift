import Foundation
import Inbox
import PostgresNIO

extension PostgresInbox: ReconciliationStore {
    @discardableResult
    public func expect(_ order: ExpectedOrder) async throws -> Bool {
        try await perform { [self] client in
            let rows = try await client.query(
                """
                INSERT INTO trustpay_expected_orders (order_ref, merchant_id, order_type, order_no, expected_at)
                VALUES (\(order.order.rawValue), \(order.merchantID), \(order.orderType), \(order.orderNo),
                    \(order.expectedAt))
                ON CONFLICT (order_ref) DO NOTHING RETURNING 1
                """, logger: driverLogger
            ).collect()
            return !rows.isEmpty
        }
    }

    public func reconciliationCandidates(
        finalStatuses: Set<Int>, quietSince: Date, notBefore: Date, limit: Int
    ) async throws -> [ReconciliationCandidate] {
        guard limit > 0 else { return [] }
        let finals = Array(finalStatuses).sorted()
        return try await perform { [self] client in
            var candidates: [ReconciliationCandidate] = []
            let notFinal = try await client.query(
                """
                SELECT min(e.merchant_id), min(e.order_type), min(e.order_no), min(o.status), min(e.received_at)
                FROM trustpay_order_status AS o JOIN trustpay_events AS e ON e.order_ref = o.order_ref
                WHERE e.kind = 'payment' AND e.order_type IS NOT NULL AND o.status IS NOT NULL
                    AND NOT (o.status = ANY(\(finals)))
                GROUP BY o.order_ref
                HAVING max(e.received_at) < \(quietSince) AND min(e.received_at) >= \(notBefore)
                ORDER BY min(e.received_at) LIMIT \(limit)
                """, logger: driverLogger)
            for try await (merchant, type, orderNo, status, first) in notFinal.decode((Int64, Int, String, Int, Date).self) {
                candidates.append(
                    ReconciliationCandidate(
                        merchantID: merchant, orderType: type, orderNo: orderNo, lastStatus: status,
                        reason: .notFinal, since: first))
            }
            let expected = try await client.query(
                """
                SELECT merchant_id, order_type, order_no, expected_at FROM trustpay_expected_orders AS x
                WHERE expected_at < \(quietSince) AND expected_at >= \(notBefore)
                    AND NOT EXISTS (
                        SELECT 1 FROM trustpay_order_status AS o WHERE o.order_ref = x.order_ref AND o.events > 0)
                ORDER BY expected_at LIMIT \(limit)
                """, logger: driverLogger)
            for try await (merchant, type, orderNo, at) in expected.decode((Int64, Int, String, Date).self) {
                candidates.append(
                    ReconciliationCandidate(
                        merchantID: merchant, orderType: type, orderNo: orderNo, lastStatus: nil,
                        reason: .expected, since: at))
            }
            return Array(candidates.sorted { ($0.since, $0.orderNo) < ($1.since, $1.orderNo) }.prefix(limit))
        }
    }

    public func forgetReconciliation(expectedBefore: Date, leasesEndedBefore: Date) async throws -> Int {
        try await perform { [self] client in
            let expected = try await client.query(
                "DELETE FROM trustpay_expected_orders WHERE expected_at < \(expectedBefore) RETURNING 1",
                logger: driverLogger
            ).collect()
            let leases = try await client.query(
                "DELETE FROM trustpay_order_query_leases WHERE lease_until < \(leasesEndedBefore) RETURNING 1",
                logger: driverLogger
            ).collect()
            return expected.count + leases.count
        }
    }

    /// A conditional upsert: the row changes only when the lease is free
    /// (expired) or already ours, so of replicas asking together one wins.
    public func takeQueryLease(order: OrderReference, owner: String, until: Date, now: Date) async throws -> Bool {
        try await perform { [self] client in
            let rows = try await client.query(
                """
                INSERT INTO trustpay_order_query_leases AS l (order_ref, owner, lease_until)
                VALUES (\(order.rawValue), \(owner), \(until))
                ON CONFLICT (order_ref) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
                WHERE l.owner = excluded.owner OR l.lease_until <= \(now)
                RETURNING 1
                """, logger: driverLogger
            ).collect()
            return !rows.isEmpty
        }
    }
}

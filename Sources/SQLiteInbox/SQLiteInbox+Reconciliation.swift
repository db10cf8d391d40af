import Foundation
import Inbox
import SQLiteStore

extension SQLiteInbox: ReconciliationStore {
    @discardableResult
    public func expect(_ order: ExpectedOrder) async throws -> Bool {
        try await write("cannot register the expected order") { db in
            try db.execute(
                """
                INSERT INTO expected_orders (order_ref, merchant_id, order_type, order_no, expected_at)
                VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_ref) DO NOTHING
                """,
                .text(order.order.rawValue), .integer(order.merchantID), .integer(Int64(order.orderType)),
                .text(order.orderNo), .time(order.expectedAt)) == 1
        }
    }

    public func reconciliationCandidates(
        finalStatuses: Set<Int>, quietSince: Date, notBefore: Date, limit: Int
    ) async throws -> [ReconciliationCandidate] {
        guard limit > 0 else { return [] }
        // Integers only: safe to write into the statement.
        let finals = finalStatuses.sorted().map(String.init).joined(separator: ", ")
        return try await read("cannot choose the orders to reconcile") { db in
            let notFinal = try db.query(
                """
                SELECT e.merchant_id AS merchant_id, e.order_type AS order_type, e.order_no AS order_no,
                    o.status AS last_status, min(e.received_at) AS first_at
                FROM order_last_status AS o JOIN inbox_events AS e ON e.order_ref = o.order_ref
                WHERE e.kind = 'payment' AND e.order_type IS NOT NULL AND o.status NOT IN (\(finals))
                GROUP BY o.order_ref
                HAVING max(e.received_at) < ?1 AND min(e.received_at) >= ?2
                ORDER BY first_at LIMIT ?3
                """,
                .time(quietSince), .time(notBefore), .integer(Int64(limit)))
            let expected = try db.query(
                """
                SELECT merchant_id, order_type, order_no, expected_at FROM expected_orders AS x
                WHERE expected_at < ?1 AND expected_at >= ?2
                    AND NOT EXISTS (SELECT 1 FROM order_last_status AS o WHERE o.order_ref = x.order_ref)
                ORDER BY expected_at LIMIT ?3
                """,
                .time(quietSince), .time(notBefore), .integer(Int64(limit)))
            var candidates: [ReconciliationCandidate] = []
            for row in notFinal {
                guard let merchant = row["merchant_id"]?.int64, let type = row["order_type"]?.int,
                    let orderNo = row["order_no"]?.string, let first = row["first_at"]?.int64
                else { continue }
                candidates.append(
                    ReconciliationCandidate(
                        merchantID: merchant, orderType: type, orderNo: orderNo,
                        lastStatus: row["last_status"]?.int, reason: .notFinal,
                        since: Date(millisecondsSince1970: first)))
            }
            for row in expected {
                guard let merchant = row["merchant_id"]?.int64, let type = row["order_type"]?.int,
                    let orderNo = row["order_no"]?.string, let at = row["expected_at"]?.int64
                else { continue }
                candidates.append(
                    ReconciliationCandidate(
                        merchantID: merchant, orderType: type, orderNo: orderNo, lastStatus: nil,
                        reason: .expected, since: Date(millisecondsSince1970: at)))
            }
            return Array(candidates.sorted { ($0.since, $0.orderNo) < ($1.since, $1.orderNo) }.prefix(limit))
        }
    }

    public func forgetReconciliation(expectedBefore: Date, leasesEndedBefore: Date) async throws -> Int {
        try await write("cannot forget old expected orders and leases") { db in
            try db.execute("DELETE FROM expected_orders WHERE expected_at < ?", .time(expectedBefore))
                + db.execute("DELETE FROM order_query_leases WHERE lease_until < ?", .time(leasesEndedBefore))
        }
    }

    public func takeQueryLease(order: OrderReference, owner: String, until: Date, now: Date) async throws -> Bool {
        try await write("cannot take the order's query lease") { db in
            try db.execute(
                """
                INSERT INTO order_query_leases (order_ref, owner, lease_until) VALUES (?1, ?2, ?3)
                ON CONFLICT (order_ref) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
                WHERE order_query_leases.owner = excluded.owner OR order_query_leases.lease_until <= ?4
                """,
                .text(order.rawValue), .text(owner), .time(until), .time(now)) == 1
        }
    }
}

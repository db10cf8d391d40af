import Foundation
import Inbox
import PostgresNIO

/// A `record` call waiting for its batch (see ``PostgresInbox/writeRecords(_:timeout:)``).
struct RecordRequest: Sendable {
    let new: NewInboxEvent
    let lease: LeaseRequest
    let now: Date
}

extension PostgresInbox {
    /// Records a batch of new events (see ``GroupCommit``) in one statement,
    /// so in one commit: `trustpay_record_events` (migration 10) records
    /// the events alone of their order and key in the batch together,
    /// set-based, and the others one after another, so that each sees
    /// those before it as one call after another would: a key repeated in
    /// the batch is inserted once, a second event of an order gets no
    /// `.ifFirstOfOrder` lease and is held behind the first.
    /// Returns each request's event as recorded, in the batch's order, or
    /// nil where nothing was inserted (the caller reads why once the batch
    /// is committed, as a single record does).
    ///
    /// The events go in the order of their order references (in the
    /// batch's order within one order), so that concurrent batches lock
    /// the orders' status rows in one order instead of deadlocking.
    func writeRecords(_ batch: [RecordRequest], timeout: Duration) async -> Result<[InboxEvent?], StoreError> {
        let order = batch.indices.sorted { a, b in
            let comparison = Self.compareBytes(batch[a].new.order.rawValue, batch[b].new.order.rawValue)
            return comparison == 0 ? a < b : comparison < 0
        }
        let events = order.map { batch[$0].new }
        let leases = order.map { batch[$0] }.map { request -> (mode: Int, owner: String, until: Date) in
            // PostgresNIO binds no arrays of optionals: no owner and no time without a lease.
            switch request.lease {
            case .none: (0, "", request.now)
            case .always(let lease): (1, lease.owner, request.now.adding(lease.duration))
            case .ifFirstOfOrder(let lease): (2, lease.owner, request.now.adding(lease.duration))
            }
        }
        let ids = events.map(\.id)
        let keys = events.map(\.key.rawValue)
        let hashes = events.map(\.contentHash)
        let kinds = events.map(\.kind.rawValue)
        let merchants = events.map(\.merchantID)
        let orderTypes = events.map { $0.orderType ?? 0 }
        let hasOrderTypes = events.map { $0.orderType != nil }
        let orderNos = events.map(\.orderNo)
        let statuses = events.map(\.status)
        let orderRefs = events.map(\.order.rawValue)
        let ranks = events.map { $0.statusRank ?? 0 }
        let hasRanks = events.map { $0.statusRank != nil }
        let bodies = events.map(\.rawBody)
        let receivedAts = events.map(\.receivedAt)
        let sources = events.map(\.source.rawValue)
        let modes = leases.map(\.mode)
        let owners = leases.map(\.owner)
        let untils = leases.map(\.until)
        do {
            let answers = try await perform(timeout: timeout) { [self] client in
                var binds = PostgresBindings(capacity: 18)
                binds.append(ArrayBinding(ids))
                binds.append(ArrayBinding(keys))
                binds.append(ArrayBinding(hashes))
                binds.append(ArrayBinding(kinds))
                binds.append(ArrayBinding(merchants))
                binds.append(ArrayBinding(orderTypes))
                binds.append(ArrayBinding(hasOrderTypes))
                binds.append(ArrayBinding(orderNos))
                binds.append(ArrayBinding(statuses))
                binds.append(ArrayBinding(orderRefs))
                binds.append(ArrayBinding(ranks))
                binds.append(ArrayBinding(hasRanks))
                binds.append(ArrayBinding(bodies))
                binds.append(ArrayBinding(receivedAts))
                binds.append(ArrayBinding(sources))
                binds.append(ArrayBinding(modes))
                binds.append(ArrayBinding(owners))
                binds.append(ArrayBinding(untils))
                let rows = try await client.execute(Prepared<RecordEvents>(binds), logger: driverLogger)
                var answers = [InboxEvent?](repeating: nil, count: batch.count)
                for try await row in rows {
                    var cells = row.makeIterator()
                    // 1-based, in the order the events were sent.
                    guard let sent = try cells.next()?.decode(Int.self), order.indices.contains(sent - 1) else {
                        throw UnreadableEvent(id: "?", what: "no place in a batch of \(batch.count)")
                    }
                    let index = order[sent - 1]
                    answers[index] = try InboxEvent(recorded: batch[index].new, cells: &cells)
                }
                return answers
            }
            return .success(answers)
        } catch {
            return .failure(DatabaseFailure.storeError(error, timeout: timeout))
        }
    }

    /// What a record reads back of each event it inserted: the columns the
    /// database decides (`InboxEvent(recorded:cells:)`), not the fourteen
    /// the request sent. Every one of them was sent back, encoded by the
    /// backend and decoded here (six Strings each), for every callback.
    static let recordedColumns = [
        "previous_status", "is_stale", "received_at", "state", "lease_owner", "state_at", "attempts", "last_error",
        "conflicts",
    ].map { "(r.recorded).\($0)" }.joined(separator: ", ")

    /// `x` against `y` by their UTF-8 bytes (PostgreSQL's `COLLATE "C"`):
    /// negative, zero or positive. One `memcmp` over contiguous bytes: two
    /// passes over `utf8` views per comparison (equal, then precedes) were
    /// 1.5% of the server's CPU under load (session 12's profile).
    static func compareBytes(_ x: String, _ y: String) -> Int {
        var (x, y) = (x, y)
        return x.withUTF8 { a in
            y.withUTF8 { b in
                let common = min(a.count, b.count)
                let prefix = common == 0 ? 0 : Int(memcmp(a.baseAddress!, b.baseAddress!, common))
                return prefix != 0 ? prefix : a.count - b.count
            }
        }
    }
}

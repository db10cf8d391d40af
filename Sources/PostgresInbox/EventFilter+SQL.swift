import Inbox
import PostgresNIO

extension EventFilter {
    /// The filter as a `WHERE` condition over `trustpay_events`, its values
    /// appended to `binds` as parameters.
    func condition(binds: inout PostgresBindings) -> String {
        var terms: [String] = []
        func parameter(_ value: some PostgresNonThrowingEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let states { terms.append("state = ANY(\(parameter(states.map(\.rawValue).sorted())))") }
        if let kinds { terms.append("kind = ANY(\(parameter(kinds.map(\.rawValue).sorted())))") }
        if let merchantID { terms.append("merchant_id = \(parameter(merchantID))") }
        if let orderNo { terms.append("order_no = \(parameter(orderNo))") }
        if let status { terms.append("status = \(parameter(status))") }
        if let receivedFrom { terms.append("received_at >= \(parameter(receivedFrom))") }
        if let receivedBefore { terms.append("received_at < \(parameter(receivedBefore))") }
        return terms.isEmpty ? "TRUE" : terms.joined(separator: " AND ")
    }

    /// `LIMIT n OFFSET m`, or as much of it as is set.
    func limitClause(binds: inout PostgresBindings) -> String {
        var clause = ""
        if let limit {
            binds.append(max(0, limit))
            clause = "LIMIT $\(binds.count)"
        }
        if let offset {
            binds.append(max(0, offset))
            clause += " OFFSET $\(binds.count)"
        }
        return clause
    }
}

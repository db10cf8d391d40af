/// How far along its order a payment status is, so that a callback arriving
/// out of order can be told from a real change.
///
/// | rank | statuses |
/// |---|---|
/// | 0 | 1 pending |
/// | 1 | 2 paid, 3 failed, 4 timed out, 5 unliquidated (outcomes) |
/// | 2 | 6 statement (settled) |
/// | 3 | 9 refunding, 8 partially refunded (a partial refund may be followed by another refund) |
/// | 4 | 7 refunded |
///
/// An event whose rank is lower than the order's last one is stale (5 after
/// 7). Equal ranks are not: they are different outcomes the handler must
/// see. Unknown codes have no rank and are never stale.
public enum OrderProgress {
    public static func rank(of status: OrderStatus) -> Int? {
        switch status {
        case .pending: 0
        case .paid, .failed, .timedOut, .unliquidated: 1
        case .statement: 2
        case .refunding, .partiallyRefunded: 3
        case .refunded: 4
        case .unknown: nil
        }
    }
}

import TrustPay
import TrustPayWebhooksTesting

/// One callback of the drill: a distinct order, genuinely signed or forged.
struct DrillCallback: Sendable {
    let orderNo: String
    let request: [UInt8]
    /// False for a forged callback: signed with a secret the server does not
    /// know, so it must be answered `401` and never stored or handled.
    let genuine: Bool
}

/// What the load generator sends: each genuine callback until it is
/// acknowledged, some of them again as duplicates (some to both replicas at
/// once), and forged callbacks once each, all shuffled together.
struct DrillCorpus: Sendable {
    let callbacks: [DrillCallback]
    /// Indexes into `callbacks`, in sending order; an index may recur.
    let schedule: [Send]

    struct Send: Sendable {
        let callback: Int
        /// Written to every replica at the same instant rather than to one.
        let toEveryReplica: Bool
    }

    static let merchantID: Int64 = 8_820_250_900_009

    init(genuine: Int, duplicates: Int, simultaneous: Int, forged: Int, secret: String, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let factory = CallbackFactory(merchant: TestMerchant(id: Self.merchantID, secret: secret))
        let forger = CallbackFactory(merchant: TestMerchant(id: Self.merchantID, secret: secret + "-forged"))
        var callbacks: [DrillCallback] = []
        for index in 0..<genuine {
            let signed = factory.payment(
                index % 2 == 0 ? .payin : .payout, orderNo: "DRILL-\(seed)-\(index)",
                status: index % 3 == 0 ? .paid : .unliquidated, orderAmount: Amount.of("\(100 + index % 900).\(index % 100)"))
            callbacks.append(DrillCallback(orderNo: "DRILL-\(seed)-\(index)", request: postRequest(path: signed.path, body: signed.body), genuine: true))
        }
        for index in 0..<forged {
            let signed = forger.payment(orderNo: "FORGED-\(seed)-\(index)", status: .paid)
            callbacks.append(DrillCallback(orderNo: "FORGED-\(seed)-\(index)", request: postRequest(path: signed.path, body: signed.body), genuine: false))
        }
        self.callbacks = callbacks

        // Originals in order with forged ones spread among them; each
        // duplicate goes somewhere after its original, so it usually finds
        // the event stored, sometimes still in flight.
        var schedule = (0..<genuine).map { Send(callback: $0, toEveryReplica: false) }
        for index in 0..<forged {
            schedule.insert(Send(callback: genuine + index, toEveryReplica: false),
                            at: Int(random.next() % UInt64(schedule.count + 1)))
        }
        if genuine > 0 {
            for copy in 0..<(duplicates + simultaneous) {
                let original = Int(random.next() % UInt64(genuine))
                let position = schedule.firstIndex { $0.callback == original } ?? 0
                let after = position + 1 + Int(random.next() % UInt64(max(1, min(200, schedule.count - position))))
                schedule.insert(Send(callback: original, toEveryReplica: copy >= duplicates), at: min(after, schedule.count))
            }
        }
        self.schedule = schedule
    }
}

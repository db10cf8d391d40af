import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import ServiceConfiguration
import TrustPay
import Webhooks

/// Acts as TrustPay: builds a callback, signs it and posts it.
///
/// Bodies are built with `TrustPaySignature` directly rather than the
/// `TrustPayWebhooksTesting` factory, so the shipped binary carries no
/// test-support code (recorders, test servers) and amounts are exactly the
/// text the operator typed.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post a correctly signed TrustPay callback to a server: the quickest installation test.",
        discussion: """
            By default a payin callback with status 5 (succeeded) for the first configured merchant, signed \
            with that merchant's first secret, is posted to the configured payment route \
            (http://<server.host>:<server.port><routes.payment.path>, https when server.tls is set); --kind \
            card posts to that merchant's card route. One line is printed per answer (--verbose also prints \
            the request); the exit status is 1 if any answer was not 200.

            A TRIGGER names a callback: its kind, type, status and fields. Known triggers:
            \(Trigger.listing)
            Refunds (7, 8, 9) carry merchant_refund_no and refund_amount, and no paid_amount, fee or pay_time.
            Flags may refine a trigger (--amount, --order-no, …) but not contradict it (payin.succeeded \
            --status 3 is refused), and flags a callback cannot carry are refused, never dropped: --fee and \
            --pay-time with a refund or with status 1, 3 or 4; --refund-no and --refund-amount without a refund \
            status; --card-type and --card-id with a payment; --type, --pay-time and refund flags with a card.

            The same --order-no always sends the same signed content (pay_time is fixed unless --pay-time is \
            given), so sending it again, or with --repeat, is a duplicate, never a conflict.

            Examples:
              trustpay-webhooks send payin.refunded --order-no ORD-1 --refund-no RF-1
              trustpay-webhooks send --order-no ORD-1 --repeat 3
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case payment, card }
    enum PaymentType: String, ExpressibleByArgument, CaseIterable {
        case payin, payout
        var orderType: OrderType { self == .payin ? .payin : .payout }
    }

    /// A named callback, as `stripe trigger` has them.
    struct Trigger: Sendable {
        let name: String
        let kind: Kind
        let type: PaymentType?
        let status: Int
        let cardType: String?
        let summary: String

        static let all: [Trigger] = [
            payin("payin.pending", 1, "payin, status 1 (pending)"),
            payin("payin.succeeded", 5, "payin, status 5 (succeeded, unliquidated)"),
            payin("payin.failed", 3, "payin, status 3 (failed)"),
            payin("payin.timed_out", 4, "payin, status 4 (timed out)"),
            payin("payin.settled", 6, "payin, status 6 (statement, settled)"),
            payin("payin.refunded", 7, "payin, status 7 (refunded)"),
            payin("payin.partially_refunded", 8, "payin, status 8 (partially refunded: half)"),
            payin("payin.refunding", 9, "payin, status 9 (refunding)"),
            payout("payout.pending", 1, "payout, status 1 (pending)"),
            payout("payout.paid", 2, "payout, status 2 (paid: the payout succeeded)"),
            payout("payout.failed", 3, "payout, status 3 (failed)"),
            payout("payout.timed_out", 4, "payout, status 4 (timed out)"),
            Trigger(name: "card.opened", kind: .card, type: nil, status: 2, cardType: "OPEN_CARD",
                    summary: "card OPEN_CARD, status 2 (assumed: unpublished)"),
            Trigger(name: "card.recharged", kind: .card, type: nil, status: 2, cardType: "CARD_CHARGE",
                    summary: "card CARD_CHARGE, status 2 (assumed: unpublished)"),
        ]

        static func named(_ name: String) -> Trigger? { all.first { $0.name == name } }

        /// One line per trigger, for `send --help`.
        static var listing: String {
            all.map { "  " + $0.name.padding(toLength: 26, withPad: " ", startingAt: 0) + $0.summary }
                .joined(separator: "\n")
        }

        private static func payin(_ name: String, _ status: Int, _ summary: String) -> Trigger {
            Trigger(name: name, kind: .payment, type: .payin, status: status, cardType: nil, summary: summary)
        }

        private static func payout(_ name: String, _ status: Int, _ summary: String) -> Trigger {
            Trigger(name: name, kind: .payment, type: .payout, status: status, cardType: nil, summary: summary)
        }
    }

    @Argument(help: ArgumentHelp("A named callback such as payin.succeeded or payout.failed (see below).",
                                 valueName: "trigger"))
    var trigger: String?

    @OptionGroup var config: ConfigOptions

    @Option(help: "Where to post (default: the configured route on server.host:server.port).")
    var url: String?

    @Option(help: "Secret to sign with (default: the configured merchant's first secret). Never printed.")
    var secret: String?

    @Option(help: "Callback kind (default: payment).")
    var kind: Kind?

    @Option(help: "Payment order type (payment callbacks; default: payin).")
    var type: PaymentType?

    @Option(help: "The card callback's \"type\" (card callbacks; default: OPEN_CARD).")
    var cardType: String?

    @Option(help: "Status code (default: 5 for a payin, 2 for a payout, 1 for a card order).")
    var status: Int?

    @Option(help: "Order number (default: a fresh unique one).")
    var orderNo: String?

    @Option(help: "Amount, written into the body exactly as given (e.g. 20.00).")
    var amount = "20.00"

    @Option(help: "Fee, exactly as given (default: none).")
    var fee: String?

    @Option(help: """
        pay_time, YYYY-MM-DD HH:MM:SS (default: now for a fresh order number; with --order-no a fixed \
        \(Send.fixedPayTime), so the same order is the same callback).
        """)
    var payTime: String?

    @Option(help: "merchant_id of a payment; selects the configured merchant (default: the first).")
    var merchantId: Int64?

    @Option(help: "card_id of a card callback (default: 57).")
    var cardId: Int64?

    @Option(name: .customLong("refund-no"), help: "A merchant_refund_no entry of a refund (status 7, 8, 9); repeatable.")
    var refundNumbers: [String] = []

    @Option(help: "refund_amount of a refund, exactly as given (default: the amount; half of it for status 8).")
    var refundAmount: String?

    @Option(
        name: .customLong("field"),
        help: ArgumentHelp("Extra or replaced field; VALUE is JSON if it parses, else a string. Repeatable.",
                           valueName: "key=value"))
    var extraFields: [String] = []

    @Option(help: "How number literals are written into the canonical string when signing (a merchant's number_forms).")
    var form: NumberForm = .asTransmitted

    @Option(name: .customLong("repeat"), help: "Post the same callback N times.")
    var repeatCount = 1

    @Option(help: "How many posts may be in flight at once.")
    var concurrency = 1

    @Option(help: "Seconds to wait for each answer.")
    var timeout: Double = 10

    @Flag(help: "Also print the request: the URL and the signed body.")
    var verbose = false

    @Option(help: ArgumentHelp("Trust the CA certificates in this PEM file for an https URL (a private CA).",
                               valueName: "file"))
    var cacert: String?

    @Flag(help: "Do not verify the https server's certificate (testing only).")
    var insecure = false

    /// pay_time when --order-no is given without --pay-time.
    static let fixedPayTime = "2025-01-01 00:00:00"

    // MARK: what the flags resolve to

    var resolvedKind: Kind { kind ?? Trigger.named(trigger ?? "")?.kind ?? .payment }
    var resolvedType: PaymentType { type ?? Trigger.named(trigger ?? "")?.type ?? .payin }
    var resolvedCardType: String { cardType ?? Trigger.named(trigger ?? "")?.cardType ?? "OPEN_CARD" }
    var resolvedStatus: Int {
        if let status { return status }
        if let trigger = Trigger.named(trigger ?? "") { return trigger.status }
        if resolvedKind == .card { return 1 }
        return resolvedType == .payin ? 5 : 2
    }
    /// A payin refund: status 7, 8 or 9.
    var isRefund: Bool {
        resolvedKind == .payment && PaymentCallbackShape(type: resolvedType.orderType, status: OrderStatus(code: resolvedStatus)) == .refund
    }

    func validate() throws {
        guard Amount(amount) != nil else { throw ValidationError("--amount must be a decimal number, e.g. 20.00") }
        if let fee, Amount(fee) == nil { throw ValidationError("--fee must be a decimal number, e.g. 0.60") }
        if let refundAmount, Amount(refundAmount) == nil {
            throw ValidationError("--refund-amount must be a decimal number, e.g. 5.00")
        }
        if let payTime, !Self.isPayTime(payTime) {
            throw ValidationError("--pay-time must be a time written YYYY-MM-DD HH:MM:SS, got '\(payTime)'")
        }
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if cacert != nil && insecure { throw ValidationError("--cacert and --insecure contradict") }
        for field in extraFields where !field.contains("=") || field.hasPrefix("=") {
            throw ValidationError("--field expects key=value, got '\(field)'")
        }
        try validateTrigger()
        try validateMeaning()
    }

    /// The trigger exists, and no flag says otherwise.
    private func validateTrigger() throws {
        guard let name = trigger else { return }
        guard let trigger = Trigger.named(name) else {
            throw ValidationError(
                "unknown trigger '\(name)'; known triggers: \(Trigger.all.map(\.name).joined(separator: ", "))")
        }
        if let kind, kind != trigger.kind {
            throw ValidationError("\(name) is a \(trigger.kind.rawValue) callback: --kind \(kind.rawValue) contradicts it")
        }
        if let type, let triggerType = trigger.type, type != triggerType {
            throw ValidationError("\(name) is a \(triggerType.rawValue): --type \(type.rawValue) contradicts it")
        }
        if let status, status != trigger.status {
            throw ValidationError("\(name) is status \(trigger.status): --status \(status) contradicts it")
        }
        if let cardType, let triggerCardType = trigger.cardType, cardType != triggerCardType {
            throw ValidationError("\(name) is a \(triggerCardType) callback: --card-type \(cardType) contradicts it")
        }
    }

    /// Flags the callback cannot carry are refused, not silently dropped.
    private func validateMeaning() throws {
        let status = resolvedStatus
        switch resolvedKind {
        case .payment:
            if cardType != nil { throw ValidationError("--card-type is for card callbacks, not --kind payment") }
            if cardId != nil { throw ValidationError("--card-id is for card callbacks, not --kind payment") }
            if isRefund {
                if fee != nil { throw ValidationError("--fee: a refund callback (status \(status)) carries no fee") }
                if payTime != nil {
                    throw ValidationError("--pay-time: a refund callback (status \(status)) carries no pay_time")
                }
            } else {
                let refundFlag = !refundNumbers.isEmpty ? "--refund-no" : refundAmount != nil ? "--refund-amount" : nil
                if let refundFlag {
                    throw ValidationError(
                        "\(refundFlag) is for payin refunds (status 7, 8 or 9), not a \(resolvedType.rawValue) "
                            + "with status \(status)")
                }
                if PaymentCallbackShape(type: resolvedType.orderType, status: OrderStatus(code: status)) == .orderAmountOnly {
                    for (flag, given) in [("--fee", fee != nil), ("--pay-time", payTime != nil)] where given {
                        throw ValidationError(
                            "\(flag): a callback with status \(status) carries only order_amount, as TrustPay documents")
                    }
                }
            }
        case .card:
            let paymentFlags = [
                ("--type", type != nil), ("--pay-time", payTime != nil), ("--refund-no", !refundNumbers.isEmpty),
                ("--refund-amount", refundAmount != nil),
            ]
            for (flag, given) in paymentFlags where given {
                throw ValidationError("\(flag) is for payment callbacks, not --kind card")
            }
        }
    }

    /// `YYYY-MM-DD HH:MM:SS`, a real date and time.
    static func isPayTime(_ text: String) -> Bool {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        guard text.utf8.count == 19, let date = formatter.date(from: text) else { return false }
        return formatter.string(from: date) == text
    }

    func run() async throws {
        let target = try resolveTarget()
        let body = TrustPaySignature().signedBody(
            callbackFields(merchantID: target.merchantID), secret: target.secret, form: form)
        guard let url = URL(string: target.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else {
            throw ToolError.exit("--url must be an http:// or https:// URL, got '\(target.url)'")
        }
        if cacert != nil || insecure, scheme != "https" {
            throw ToolError.exit("--cacert and --insecure are for https:// URLs, got '\(target.url)'")
        }
        if verbose {
            print("POST \(target.url)")
            print(String(decoding: body, as: UTF8.self))
        }
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: try tls()))
        var failures = 0
        await withTaskGroup(of: (Int, String, Bool).self) { group in
            var next = 1
            func startOne() {
                let index = next
                next += 1
                group.addTask { await Self.post(body, to: target.url, with: client, timeout: timeout, index: index) }
            }
            while next <= min(concurrency, repeatCount) { startOne() }
            for await (index, answer, ok) in group {
                print("[\(index)/\(repeatCount)] \(answer)")
                if !ok { failures += 1 }
                if next <= repeatCount { startOne() }
            }
        }
        try await client.shutdown()
        if repeatCount > 1 { print("\(repeatCount - failures) of \(repeatCount) answered 200") }
        if failures > 0 { throw ExitCode.failure }
    }

    /// The system's trust store, or `--cacert`'s, or none at all with `--insecure`.
    private func tls() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecure { tls.certificateVerification = .none }
        if let cacert {
            guard FileManager.default.isReadableFile(atPath: cacert) else {
                throw ToolError.exit("--cacert: cannot read \(cacert)")
            }
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(cacert))
            } catch {
                throw ToolError.exit("--cacert: \(cacert) holds no PEM certificate (\(error))")
            }
        }
        return tls
    }

    private static func post(
        _ body: [UInt8], to url: String, with client: HTTPClient, timeout: Double, index: Int
    ) async -> (Int, String, Bool) {
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let answer = try await response.body.collect(upTo: 1 << 20)
            let text = String(buffer: answer).trimmingCharacters(in: .whitespacesAndNewlines)
            return (index, "\(response.status.code) \(text)", response.status.code == 200)
        } catch {
            return (index, "no answer: \(Self.explain(error))", false)
        }
    }

    /// The error in an operator's words where NIO's is cryptic.
    private static func explain(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate is not trusted (give its CA with --cacert, or --insecure for a throwaway test)"
        }
        return text
    }

    // MARK: target

    private func resolveTarget() throws -> (url: String, secret: String, merchantID: Int64) {
        if let url, let secret, let merchantId { return (url, secret, merchantId) }
        let environment = ProcessInfo.processInfo.environment
        let settings = try config.load(environment: environment)
        let merchants = try ConfiguredMerchants(config, logger: ToolLogging.logger)
        let merchantID = merchantId ?? merchants.merchants.first?.id
        guard let merchantID else { throw ToolError.exit("no merchant is configured: give --merchant-id") }
        let secret: String
        if let given = self.secret {
            secret = given
        } else {
            guard let first = try merchants.merchant(merchantID).secrets.first else {
                throw ToolError.exit("merchant \(merchantID) has no secret configured: give --secret")
            }
            secret = first
        }
        return (try url ?? defaultURL(settings, merchantID: merchantID), secret, merchantID)
    }

    private func defaultURL(_ settings: ServiceSettings, merchantID: Int64) throws -> String {
        let path: String
        switch resolvedKind {
        case .payment:
            path = settings.routes.payment.path
        case .card:
            let routes = settings.routes.cards
            guard let route = routes.first(where: { $0.merchant == merchantID }) ?? routes.first else {
                throw ToolError.exit("no card route is configured (routes.cards): give --url")
            }
            path = route.path
        }
        var host = settings.server.host
        if host == "0.0.0.0" { host = "127.0.0.1" } else if host == "::" { host = "::1" }
        if host.contains(":") { host = "[\(host)]" }
        let scheme = settings.server.tlsCertificate == nil ? "http" : "https"
        return "\(scheme)://\(host):\(settings.server.port)\(path)"
    }

    // MARK: body

    func callbackFields(merchantID: Int64) -> JSONObject {
        let orderNo = self.orderNo ?? "cli-\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(8).lowercased())"
        var fields: JSONObject
        switch resolvedKind {
        case .payment:
            fields = paymentFields(merchantID: merchantID, orderNo: orderNo)
        case .card:
            let amount = Amount(self.amount)!
            let fee = self.fee.flatMap(Amount.init) ?? .zero
            fields = [
                "order_no": .string(orderNo), "status": .integer(resolvedStatus), "card_id": .integer(cardId ?? 57),
                "amount": .number(self.amount), "balance": JSONValue(amount - fee),
                "type": .string(resolvedCardType), "reason": "",
            ]
            if let feeText = self.fee { fields["fee"] = .number(feeText) }
        }
        for field in extraFields {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let text = parts.count > 1 ? String(parts[1]) : ""
            fields[String(parts[0])] = (try? JSONValue(parsing: Array(text.utf8))) ?? .string(text)
        }
        return fields
    }

    private func paymentFields(merchantID: Int64, orderNo: String) -> JSONObject {
        let status = OrderStatus(code: resolvedStatus)
        let refundAmount: JSONValue =
            if let refundAmount { .number(refundAmount) }
            else if status == .partiallyRefunded, let half = Decimal(string: amount).flatMap({ Amount($0 / 2) }) {
                JSONValue(half)
            } else { .number(amount) }
        // The same order is the same callback: a repeat is a duplicate, not a conflict.
        let payTime = payTime ?? (self.orderNo == nil ? Self.payTime(Date()) : Self.fixedPayTime)
        return PaymentCallbackShape.fields(
            type: resolvedType.orderType, merchantID: merchantID, orderNo: orderNo, status: status, orderAmount: .number(amount),
            settlement: .init(
                paidAmount: .number(amount), fee: fee.map { .number($0) }, type: resolvedType.orderType, paid: Amount(amount)!,
                payTime: payTime),
            refund: .init(refundNos: refundNumbers.isEmpty ? ["RF-\(orderNo)"] : refundNumbers, refundAmount: refundAmount),
            reason: [2, 5, 6].contains(status.code) ? "success" : "")
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC.
    static func payTime(_ date: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
            parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }
}

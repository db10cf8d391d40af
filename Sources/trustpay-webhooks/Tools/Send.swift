import ArgumentParser
import Foundation
import ServiceConfiguration
import TrustPay
import Webhooks

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
            (http://<server.host>:<server.port><routes.payment.path>); --kind card posts to that merchant's \
            card route. Each answer is printed; the exit status is 1 if any answer was not 200.
            Example: trustpay-webhooks send --config prod.yaml --status 7 --refund-no RF-1 --repeat 3
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case payment, card }
    enum PaymentType: String, ExpressibleByArgument, CaseIterable {
        case payin, payout
        var code: Int { self == .payin ? 0 : 1 }
    }

    @OptionGroup var config: ConfigOptions

    @Option(help: "Where to post (default: the configured route on server.host:server.port).")
    var url: String?

    @Option(help: "Secret to sign with (default: the configured merchant's first secret). Never printed.")
    var secret: String?

    @Option(help: "Callback kind.")
    var kind: Kind = .payment

    @Option(help: "Payment order type (payment callbacks).")
    var type: PaymentType = .payin

    @Option(help: "The card callback's \"type\" (card callbacks).")
    var cardType = "OPEN_CARD"

    @Option(help: "Status code (default: 5 for a payin, 2 for a payout, 1 for a card order).")
    var status: Int?

    @Option(help: "Order number (default: a fresh unique one).")
    var orderNo: String?

    @Option(help: "Amount, written into the body exactly as given (e.g. 20.00).")
    var amount = "20.00"

    @Option(help: "Fee, exactly as given (default: none).")
    var fee: String?

    @Option(help: "merchant_id of a payment; selects the configured merchant (default: the first).")
    var merchantId: Int64?

    @Option(help: "card_id of a card callback.")
    var cardId: Int64 = 57

    @Option(name: .customLong("refund-no"), help: "A merchant_refund_no entry; repeatable.")
    var refundNumbers: [String] = []

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

    func validate() throws {
        guard Amount(amount) != nil else { throw ValidationError("--amount must be a decimal number, e.g. 20.00") }
        if let fee, Amount(fee) == nil { throw ValidationError("--fee must be a decimal number, e.g. 0.60") }
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        for field in extraFields where !field.contains("=") || field.hasPrefix("=") {
            throw ValidationError("--field expects key=value, got '\(field)'")
        }
    }

    func run() async throws {
        let target = try resolveTarget()
        let body = TrustPaySignature().signedBody(
            callbackFields(merchantID: target.merchantID), secret: target.secret, form: form)
        guard let url = URL(string: target.url), url.scheme == "http" || url.scheme == "https" else {
            throw ToolError.exit("--url must be an http:// or https:// URL, got '\(target.url)'")
        }
        print("POST \(target.url)")
        print(String(decoding: body, as: UTF8.self))

        let request = {
            var request = URLRequest(url: url, timeoutInterval: timeout)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body)
            return request
        }()
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }

        var failures = 0
        await withTaskGroup(of: (Int, String, Bool).self) { group in
            var next = 1
            func startOne() {
                let index = next
                next += 1
                group.addTask { await Self.post(request, session: session, index: index) }
            }
            while next <= min(concurrency, repeatCount) { startOne() }
            for await (index, answer, ok) in group {
                print("[\(index)/\(repeatCount)] \(answer)")
                if !ok { failures += 1 }
                if next <= repeatCount { startOne() }
            }
        }
        if repeatCount > 1 { print("\(repeatCount - failures) of \(repeatCount) answered 200") }
        if failures > 0 { throw ExitCode.failure }
    }

    private static func post(_ request: URLRequest, session: URLSession, index: Int) async -> (Int, String, Bool) {
        do {
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return (index, "\(status) \(text)", status == 200)
        } catch {
            return (index, "no answer: \(error.localizedDescription)", false)
        }
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

    private func defaultURL(_ settings: ServiceConfiguration, merchantID: Int64) throws -> String {
        let path: String
        switch kind {
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
        switch kind {
        case .payment:
            fields = paymentFields(merchantID: merchantID, orderNo: orderNo)
        case .card:
            let amount = Amount(self.amount)!
            let fee = self.fee.flatMap(Amount.init) ?? .zero
            fields = [
                "order_no": .string(orderNo), "status": .integer(status ?? 1), "card_id": .integer(cardId),
                "amount": .number(self.amount), "balance": JSONValue(amount - fee),
                "type": .string(cardType), "reason": "",
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
        let status = self.status ?? (type == .payin ? 5 : 2)
        var fields: JSONObject = [
            "type": .integer(type.code), "merchant_id": .integer(merchantID), "order_no": .string(orderNo),
            "order_amount": .number(amount),
        ]
        let refundStatuses = type == .payin && [7, 8, 9].contains(status)
        switch status {
        case 1, 3, 4:
            break  // only order_amount, as the provider documents
        case _ where refundStatuses:
            fields["refund_amount"] = .number(amount)
        default:
            let amount = Amount(self.amount)!
            let fee = self.fee.flatMap(Amount.init) ?? .zero
            fields["paid_amount"] = .number(self.amount)
            fields["balance_amount"] = JSONValue(type == .payin ? amount - fee : amount + fee)
            if let feeText = self.fee { fields["fee"] = .number(feeText) }
            fields["pay_time"] = .string(Self.payTime(Date()))
        }
        if refundStatuses || !refundNumbers.isEmpty {
            let numbers = refundNumbers.isEmpty ? ["RF-\(orderNo)"] : refundNumbers
            fields["merchant_refund_no"] = .array(numbers.map { .string($0) })
        }
        fields["status"] = .integer(status)
        fields["reason"] = .string([2, 5, 6].contains(status) ? "success" : "")
        return fields
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC.
    static func payTime(_ date: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
            parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }
}

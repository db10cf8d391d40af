import ArgumentParser
import Foundation
import TrustPay
import Webhooks

/// Where `sign` and `verify` take their secrets from.
struct SecretOptions: ParsableArguments {
    @Option(
        name: .customLong("secret"),
        help: ArgumentHelp(
            "Merchant secret to use; repeat to try several (verify). Default: the configured merchant's secrets.",
            valueName: "secret"))
    var secrets: [String] = []

    @Option(help: "Configured merchant whose secrets to use (default: the body's merchant_id, else the first merchant).")
    var merchant: Int64?

    @OptionGroup var config: ConfigOptions

    /// The secrets and number forms to use, and a label naming where they came from.
    func resolve(for fields: JSONObject) throws -> (secrets: [String], forms: [NumberForm], source: String) {
        let (keys, source) = try resolveKeys(for: fields)
        return (keys.secrets, keys.forms, source)
    }

    /// The merchant to check a body against. With `--secret` it is the one
    /// the body (or `--merchant`) names, as the configured one would be.
    func resolveKeys(for fields: JSONObject) throws -> (keys: MerchantKeys, source: String) {
        let named = merchant ?? BodyInput.merchantID(in: fields)
        if !secrets.isEmpty { return (MerchantKeys(merchantID: named ?? 0, secrets: secrets), "--secret") }
        let merchant = try ConfiguredMerchants(config, logger: ToolLogging.logger).merchant(named)
        return (merchant.keys, "merchant \(merchant.id)")
    }
}

struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign a JSON body as TrustPay does and print its canonical string and signature.",
        discussion: """
            Reads the body from FILE or standard input; any "sign" field in it is ignored. The canonical \
            string is shown with the secret replaced by <secret #0>: secrets are never printed. With \
            --body the signed body itself is printed instead, ready to POST.
            """)

    @Argument(help: "JSON body to sign (default: standard input).")
    var file: String?

    @OptionGroup var secrets: SecretOptions

    @Option(help: "How number literals are written into the canonical string.")
    var form: NumberForm = .asTransmitted

    @Flag(help: "Print the body with its \"sign\" field instead of the canonical string.")
    var body = false

    func run() async throws {
        let fields = try BodyInput.object(BodyInput.read(file))
        let (secretList, _, _) = try secrets.resolve(for: fields)
        let scheme = TrustPaySignature()
        if body {
            print(String(decoding: scheme.signedBody(fields, secret: secretList[0], form: form), as: UTF8.self))
            return
        }
        // The diagnosis carries the redacted canonical string; signing here
        // uses the same code path as the server's verifier.
        let attempt = scheme.diagnose(fields, secrets: [secretList[0]], forms: [form]).attempts[0]
        print("canonical: \(attempt.redactedCanonicalString)")
        print("sign:      \(attempt.expectedSign)")
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a JSON body as the server would: its shape, its signature, and that it means what was signed.",
        discussion: """
            Reads the body from FILE or standard input. Exit status 0 when the server would accept it; \
            otherwise 1, naming the rule the body broke (the server's "error" code). On a signature \
            mismatch it lists, for every secret (by index) and number form tried, the canonical string \
            with the secret redacted and the signature it would need. Secrets are never printed.
            """)

    enum Route: String, ExpressibleByArgument, CaseIterable { case payment, card }

    @Argument(help: "JSON body to verify (default: standard input).")
    var file: String?

    @OptionGroup var secrets: SecretOptions

    @Option(help: "The route the body is checked for (default: payment when it has a merchant_id or an order_amount, else card).")
    var route: Route?

    func run() async throws {
        let body = try BodyInput.read(file)
        let fields = try BodyInput.object(body)
        let (keys, source) = try secrets.resolveKeys(for: fields)
        let route = route ?? Self.likelyRoute(of: fields)
        let authenticator = CallbackAuthenticator()
        do throws(CallbackRefusal) {
            let accepted: String
            switch route {
            case .payment:
                let payment = try authenticator.payment(fields: fields, rawBody: body) { _ in keys }
                accepted = "\(payment.callback); secret #\(payment.secretIndex), numbers \(payment.form.spelling)"
            case .card:
                let card = try authenticator.card(fields: fields, rawBody: body, merchant: keys)
                accepted = "\(card.callback); secret #\(card.secretIndex), numbers \(card.form.spelling)"
            }
            print("valid with the secrets of \(source): accepted as \(accepted)")
        } catch {
            print("refused (\(error.code)) on the \(route) route: \(error)")
            if case .signature = error { explainSignature(fields, keys: keys, source: source) }
            throw ExitCode.failure
        }
    }

    private func explainSignature(_ fields: JSONObject, keys: MerchantKeys, source: String) {
        let diagnosis = TrustPaySignature().diagnose(fields, secrets: keys.secrets, forms: keys.forms)
        print("received sign: \(diagnosis.receivedSign ?? "(none)")")
        print("secrets of \(source), tried:")
        for attempt in diagnosis.attempts {
            print("  secret #\(attempt.secretIndex), numbers \(attempt.form.spelling)")
            print("    canonical: \(attempt.redactedCanonicalString)")
            print("    expected:  \(attempt.expectedSign)")
        }
    }

    private static func likelyRoute(of fields: JSONObject) -> Route {
        let paymentFields = ["merchant_id", "merchantId", "order_amount", "orderAmount"]
        return paymentFields.contains { fields[$0] != nil } ? .payment : .card
    }
}

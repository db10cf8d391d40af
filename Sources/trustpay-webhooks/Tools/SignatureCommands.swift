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
        if !secrets.isEmpty { return (secrets, NumberForm.allCases, "--secret") }
        let merchant = try ConfiguredMerchants(config, logger: ToolLogging.logger).merchant(merchant ?? BodyInput.merchantID(in: fields))
        return (merchant.secrets, merchant.numberForms, "merchant \(merchant.id)")
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
        abstract: "Check the signature of a JSON body; explain a mismatch.",
        discussion: """
            Reads the body from FILE or standard input. Exit status 0 when the "sign" field matches one of \
            the secrets in one of the number forms; otherwise 1, listing for every secret (by index) and \
            number form tried the canonical string, with the secret redacted, and the signature it \
            would need. Secrets are never printed.
            """)

    @Argument(help: "JSON body to verify (default: standard input).")
    var file: String?

    @OptionGroup var secrets: SecretOptions

    func run() async throws {
        let body = try BodyInput.read(file)
        let fields = try BodyInput.object(body)
        let (secretList, forms, source) = try secrets.resolve(for: fields)
        let diagnosis = TrustPaySignature().diagnose(fields, secrets: secretList, forms: forms)
        if diagnosis.verdict.isValid {
            print("\(diagnosis.verdict) with the secrets of \(source)")
            return
        }
        print(diagnosis.verdict)
        print("received sign: \(diagnosis.receivedSign ?? "(none)")")
        print("secrets of \(source), tried:")
        for attempt in diagnosis.attempts {
            print("  secret #\(attempt.secretIndex), numbers \(attempt.form.rawValue)")
            print("    canonical: \(attempt.redactedCanonicalString)")
            print("    expected:  \(attempt.expectedSign)")
        }
        throw ExitCode.failure
    }
}

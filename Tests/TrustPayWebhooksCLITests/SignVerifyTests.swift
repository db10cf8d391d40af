import Foundation
import Testing

/// `sign` and `verify` against a vector of Tests/TrustPayTests/Fixtures/signature-vectors.json
/// ("payin success, two-decimal amounts as transmitted").
@Suite struct SignVerifyTests {
    static let secret = "s3cr3t-merchant-key"
    static let sign = "ef912d3b9cf07e82612673d2fc42dfb2"
    static let body = #"{"type":0,"merchant_id":8820250900009,"order_no":"ORD-1002","order_amount":20.00,"paid_amount":20.00,"balance_amount":17.50,"fee":2.50,"pay_time":"2026-05-15 07:23:06","status":5,"reason":"success","sign":"ef912d3b9cf07e82612673d2fc42dfb2"}"#
    static let canonical = "balance_amount=17.50&fee=2.50&merchant_id=8820250900009&order_amount=20.00&order_no=ORD-1002&paid_amount=20.00&pay_time=2026-05-15 07:23:06&reason=success&status=5"

    @Test func signPrintsTheVectorsSignatureAndARedactedCanonicalString() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let file = directory.file("body.json", contents: Self.body)
        let result = try await BuiltCLI.run(["sign", "--secret", Self.secret, file.path], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("sign:      \(Self.sign)"))
        #expect(result.stdout.contains("canonical: \(Self.canonical)&secret=<secret #0>"))
        #expect(!result.output.contains(Self.secret))
    }

    @Test func signReadsStandardInputAndPrintsASignedBody() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let result = try await BuiltCLI.run(["sign", "--secret", Self.secret, "--body"], stdin: Self.body, in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains(#""sign":"\#(Self.sign)""#))
    }

    @Test func verifyExitsZeroWithTheConfiguredMerchantsSecret() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let events = directory.url.appendingPathComponent("events.jsonl")
        let config = directory.file("config.yaml", contents: ScratchDirectory.config(secret: Self.secret, events: events))
        let file = directory.file("body.json", contents: Self.body)
        let result = try await BuiltCLI.run(["verify", "--config", config.path, file.path], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("valid with the secrets of merchant \(ScratchDirectory.merchantID)"))
        #expect(result.stdout.contains("accepted as PaymentCallback(payin \"ORD-1002\""))
        #expect(result.stdout.contains("secret #0, numbers as-transmitted"))
    }

    @Test func verifyNamesTheRuleAReshapedBodyBreaks() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        // Each still carries a matching signature: only the signed-content rules refuse it.
        let cases: [(body: String, route: [String], code: String)] = [
            (Self.body.replacingOccurrences(of: #""status":5"#, with: #""status":"5""#), [], "invalid_field"),
            (Self.body.replacingOccurrences(of: #""status":5,"#, with: #""status":0,"status=5&x":"1","#), [], "invalid_field_name"),
            (Self.body.replacingOccurrences(of: #""order_no":"ORD-1002","#, with: #""order_no":"ORD-1002&paid_amount=20.00","#)
                .replacingOccurrences(of: #""paid_amount":20.00,"#, with: ""), [], "spliced_value"),
            (Self.body.replacingOccurrences(of: #""type":0,"#, with: ""), ["--route", "card"], "not_a_card_callback"),
        ]
        for (index, example) in cases.enumerated() {
            let file = directory.file("body-\(index).json", contents: example.body)
            let result = try await BuiltCLI.run(["verify", "--secret", Self.secret] + example.route + [file.path], in: directory)
            #expect(result.status == 1, "\(result.output)")
            #expect(result.stdout.contains("refused (\(example.code))"), "\(example.code): \(result.output)")
            #expect(!result.output.contains(Self.secret))
        }
    }

    @Test func verifyExplainsAMismatchWithoutPrintingASecret() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let tampered = Self.body.replacingOccurrences(of: "ORD-1002", with: "ORD-1003")
        let file = directory.file("body.json", contents: tampered)
        let result = try await BuiltCLI.run(
            ["verify", "--secret", "old-secret-value", "--secret", Self.secret, file.path], in: directory)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stdout.contains("does not match"))
        #expect(result.stdout.contains("received sign: \(Self.sign)"))
        #expect(result.stdout.contains("secret #1, numbers as-transmitted"))
        let tamperedCanonical = Self.canonical.replacingOccurrences(of: "ORD-1002", with: "ORD-1003")
        #expect(result.stdout.contains("canonical: \(tamperedCanonical)&secret=<secret #1>"))
        #expect(result.stdout.contains("expected:  "))
        #expect(!result.output.contains(Self.secret))
        #expect(!result.output.contains("old-secret-value"))
    }
}

/// What a verifier tried, for explaining a mismatch without printing a secret.
///
/// Meant for the merchant's own command-line tooling: the expected signatures
/// are valid signatures of the body shown, so never send a diagnosis back to
/// whoever posted the body.
public struct SignatureDiagnosis: Sendable, Equatable {
    /// One secret × number form combination that was tried.
    public struct Attempt: Sendable, Equatable {
        public let secretIndex: Int
        public let form: NumberForm
        /// The canonical string with the secret replaced by
        /// ``SignatureDiagnosis/secretPlaceholder(_:)``, e.g. `…&status=5&secret=<secret #0>`.
        public let redactedCanonicalString: String
        /// The lower-case hex signature this combination produces.
        public let expectedSign: String
        public let matches: Bool
    }

    public let verdict: SignatureVerdict
    /// The `sign` as received: the string, or the compact JSON of a non-string; `nil` when absent.
    public let receivedSign: String?
    /// Every combination, secret by secret then form by form; empty when the body could not be read.
    public let attempts: [Attempt]

    /// What stands in for secret number `index` in a redacted canonical string.
    public static func secretPlaceholder(_ index: Int) -> String { "<secret #\(index)>" }
}

extension TrustPaySignature {
    /// Explains the verdict on a raw body: see ``diagnose(_:secrets:forms:)``.
    public func diagnose(
        body: some Collection<UInt8>, secrets: [String], forms: [NumberForm] = NumberForm.allCases
    ) -> SignatureDiagnosis {
        switch Self.object(from: body) {
        case .success(let fields):
            diagnose(fields, secrets: secrets, forms: forms)
        case .failure(let failure):
            SignatureDiagnosis(verdict: .invalid(failure), receivedSign: nil, attempts: [])
        }
    }

    /// The verdict, plus for each secret index × form the redacted canonical
    /// string and the signature it yields.
    public func diagnose(
        _ fields: JSONObject, secrets: [String], forms: [NumberForm] = NumberForm.allCases
    ) -> SignatureDiagnosis {
        let received = try? Self.receivedDigest(in: fields).get()
        let forms = forms.isEmpty ? [.asTransmitted] : forms
        let texts = forms.map { signedText(of: fields, form: $0) }
        var attempts: [SignatureDiagnosis.Attempt] = []
        for (index, secret) in secrets.enumerated() {
            for (form, text) in zip(forms, texts) {
                let digest = MD5.digest(canonicalBytes(text, secret: secret))
                let redacted = canonicalBytes(text, secret: SignatureDiagnosis.secretPlaceholder(index))
                attempts.append(
                    .init(
                        secretIndex: index, form: form,
                        redactedCanonicalString: String(decoding: redacted, as: UTF8.self),
                        expectedSign: MD5.hex(digest),
                        matches: received.map { received in
                            received.withUnsafeBytes { r in digest.withUnsafeBytes { MD5.constantTimeEqual(r, $0) } }
                        } ?? false))
            }
        }
        let receivedSign: String? =
            switch fields[Self.signKey] {
            case nil, .null?: nil
            case .string(let text)?: text
            case let other?: other.compactJSON
            }
        return SignatureDiagnosis(
            verdict: verify(fields, secrets: secrets, forms: forms), receivedSign: receivedSign, attempts: attempts)
    }
}

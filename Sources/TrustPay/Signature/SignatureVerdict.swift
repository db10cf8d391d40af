/// The outcome of checking a callback's `sign`.
public enum SignatureVerdict: Sendable, Equatable, CustomStringConvertible {
    /// The signature matches the secret at `secretIndex` (in the list given to
    /// the verifier) with numbers rendered in `form`.
    case valid(secretIndex: Int, form: NumberForm)
    case invalid(SignatureFailure)

    public var isValid: Bool {
        if case .valid = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .valid(let index, let form): "valid (secret #\(index), numbers \(form.rawValue))"
        case .invalid(let failure): "invalid: \(failure)"
        }
    }
}

/// Why a signature was not accepted. Messages never contain a secret.
public enum SignatureFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is not valid JSON, so there is nothing to verify.
    case invalidJSON(JSONParseError)
    /// The body is JSON but not an object.
    case notAnObject
    /// There is no `sign` field (or it is `null`).
    case missingSign
    /// `sign` is an empty string.
    case emptySign
    /// `sign` is not a string of 32 hexadecimal digits.
    case malformedSign
    /// `sign` is well formed but matches no configured secret in any tried number form.
    case mismatch
    /// The verifier was given no secret to check with.
    case noSecretConfigured

    public var description: String {
        switch self {
        case .invalidJSON(let error):
            "the body cannot be verified because it is not valid JSON (\(error))"
        case .notAnObject:
            "the body cannot be verified because it is not a JSON object"
        case .missingSign:
            "the body has no \"sign\" field"
        case .emptySign:
            "the \"sign\" field is empty"
        case .malformedSign:
            "the \"sign\" field is not 32 hexadecimal characters"
        case .mismatch:
            "the signature does not match: check that the secret is the one shown in the TrustPay dashboard (Profile)"
        case .noSecretConfigured:
            "no merchant secret is configured, so no signature can be checked"
        }
    }
}

import HTTPServer
import TrustPay

/// Every answer but the acknowledgement, with its status and a short
/// machine-readable code. Messages name fields and rules, never values from
/// the body or a secret.
enum Rejection: Error, Equatable {
    case payloadTooLarge(limit: Int)
    case unsupportedMediaType
    case invalidJSON(String)
    case invalidCallback(CallbackDecodingError)
    case signature(SignatureFailure)
    case unknownMerchant
    case storeUnavailable
    case handlerFailed
    case inProgress
    case deadLetter

    var response: HTTPResponse {
        switch self {
        case .payloadTooLarge(let limit):
            .error(.payloadTooLarge, code: "payload_too_large", message: "the body exceeds \(limit) bytes")
        case .unsupportedMediaType:
            .error(.unsupportedMediaType, code: "unsupported_media_type", message: "send Content-Type: application/json")
        case .invalidJSON(let reason):
            .error(.badRequest, code: "invalid_json", message: reason)
        case .invalidCallback(let error):
            switch error {
            case .invalidJSON, .notAnObject: .error(.badRequest, code: "invalid_json", message: error.description)
            case .missingField: .error(.badRequest, code: "missing_field", message: error.description)
            case .wrongType, .conflictingSpellings:
                .error(.badRequest, code: "invalid_field", message: error.description)
            }
        case .signature(let failure):
            switch failure {
            case .missingSign, .emptySign:
                .error(.unauthorized, code: "missing_signature", message: "the body has no \"sign\" field")
            default:
                .error(.unauthorized, code: "invalid_signature", message: "the signature does not verify")
            }
        case .unknownMerchant:
            .error(.forbidden, code: "unknown_merchant", message: "callbacks for this merchant are not accepted here")
        case .storeUnavailable:
            .error(.serviceUnavailable, code: "store_unavailable", message: "the event could not be stored; retry later")
        case .handlerFailed:
            .error(.internalServerError, code: "handler_failed", message: "the event was stored but not yet handled; retry later")
        case .inProgress:
            .error(.conflict, code: "in_progress", message: "this event is being handled; retry later")
        case .deadLetter:
            .error(.internalServerError, code: "dead_letter", message: "this event failed every attempt and awaits replay")
        }
    }
}

/// The answers TrustPay and the risk-control caller expect.
enum Answer {
    /// `200`, `application/json`, `{}`.
    static let acknowledged = HTTPResponse(status: .ok, contentType: "application/json", body: "{}")
    static let allow = HTTPResponse(status: .ok, contentType: "text/plain", body: "allow")
    static let deny = HTTPResponse.error(.forbidden, code: "denied", message: "the charge is denied")
    static let undecided = HTTPResponse.error(.serviceUnavailable, code: "undecided", message: "no decision can be made now")
    static let decisionTimedOut = HTTPResponse.error(
        .serviceUnavailable, code: "decision_timeout", message: "no decision was made in time")
    static let healthy = HTTPResponse(status: .ok, contentType: "text/plain", body: "ok\n")
    static let ready = HTTPResponse(status: .ok, contentType: "text/plain", body: "ready\n")
}

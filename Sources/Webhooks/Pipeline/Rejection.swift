import HTTPServer
import TrustPay

/// Every answer but the acknowledgement, with its status and a short
/// machine-readable code, distinct per rule. Messages name fields and rules,
/// never values from the body or a secret.
enum Rejection: Error, Equatable {
    case unsupportedMediaType
    case invalidJSON(String)
    /// A body that is not, or not provably, what TrustPay signed.
    case refused(CallbackRefusal)
    case storeUnavailable
    case handlerFailed
    case inProgress
    case deadLetter

    var response: HTTPResponse {
        let (status, message) = statusAndMessage
        return .error(status, code: code, message: message)
    }

    /// The `error` of the answer.
    var code: String {
        switch self {
        case .unsupportedMediaType: "unsupported_media_type"
        case .invalidJSON: "invalid_json"
        case .refused(let refusal): refusal.code
        case .storeUnavailable: "store_unavailable"
        case .handlerFailed: "handler_failed"
        case .inProgress: "in_progress"
        case .deadLetter: "dead_letter"
        }
    }

    private var statusAndMessage: (HTTPStatus, String) {
        switch self {
        case .unsupportedMediaType: (.unsupportedMediaType, "send Content-Type: application/json")
        case .invalidJSON(let reason): (.badRequest, reason)
        case .refused(let refusal): (Self.status(of: refusal), Self.message(of: refusal))
        case .storeUnavailable: (.serviceUnavailable, "the event could not be stored; retry later")
        case .handlerFailed: (.internalServerError, "the event was stored but not yet handled; retry later")
        case .inProgress: (.conflict, "this event is being handled; retry later")
        case .deadLetter: (.internalServerError, "this event failed every attempt and awaits replay")
        }
    }

    /// 400 for a body that breaks a rule of its shape, 401 for a signature,
    /// 403 for a merchant this route does not take.
    static func status(of refusal: CallbackRefusal) -> HTTPStatus {
        switch refusal {
        case .undecodable, .ambiguousBody: .badRequest
        case .signature(.invalidJSON), .signature(.notAnObject): .badRequest
        case .signature: .unauthorized
        case .unknownMerchant, .merchantMismatch: .forbidden
        }
    }

    /// The refusal's own words, except that a signature mismatch says no more
    /// than that: the dashboard hint is for the merchant's tooling, not for
    /// whoever posted the body.
    private static func message(of refusal: CallbackRefusal) -> String {
        switch refusal {
        case .signature(.missingSign), .signature(.emptySign): "the body has no \"sign\" field"
        case .signature(.invalidJSON), .signature(.notAnObject): refusal.description
        case .signature: "the signature does not verify"
        default: refusal.description
        }
    }

    /// Whether the refusal hints at a forgery or a misconfiguration rather than a malformed body.
    var isSuspicious: Bool {
        switch self {
        case .refused(.signature), .refused(.unknownMerchant), .refused(.merchantMismatch), .refused(.ambiguousBody):
            true
        default: false
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

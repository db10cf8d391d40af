import Deadlines
import HTTPServer
import Logging
import TrustPay

extension WebhookPipeline {
    /// `POST` asking whether to let a card charge through: the merchant's
    /// handler decides within the deadline, else `503`.
    func decideRisk(_ request: HTTPRequest) async -> HTTPResponse {
        let riskRequest: RiskControlRequest
        do throws(Rejection) {
            let fields = try parseJSONObject(request)
            do throws(CallbackDecodingError) {
                riskRequest = try RiskControlRequest(fields: fields, rawBody: request.body)
            } catch {
                throw .refused(.undecodable(error))
            }
        } catch {
            logRejection(error, path: request.path)
            return error.response
        }
        var logger = logger
        logger[metadataKey: "order_no"] = "\(LogText.escaped(riskRequest.orderID))"
        guard let handler = handlers.riskControl else {
            logger.warning("risk-control request but no handler is registered; answering 503")
            return Answer.undecided
        }
        let answer: HTTPResponse
        let outcome: String
        switch await withDeadline(
            configuration.riskControlDeadline, timer: configuration.riskControlTimer, { try await handler(riskRequest) }) {
        case .finished(.allow): (answer, outcome) = (Answer.allow, "allow")
        case .finished(.deny): (answer, outcome) = (Answer.deny, "deny")
        case .finished(.unavailable): (answer, outcome) = (Answer.undecided, "unavailable")
        case .failed: (answer, outcome) = (Answer.undecided, "handler threw")
        case .timedOut: (answer, outcome) = (Answer.decisionTimedOut, "deadline exceeded")
        }
        logger.info("risk-control decision", metadata: ["decision": "\(outcome)"])
        metrics.riskDecision(outcome)
        return answer
    }
}

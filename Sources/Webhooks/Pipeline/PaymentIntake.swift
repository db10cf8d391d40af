import Foundation
import HTTPServer
import Inbox
import Logging
import TrustPay

extension WebhookPipeline {
    /// `POST` of a payin or payout callback.
    func receivePayment(_ request: HTTPRequest, route: PaymentRoute) async -> HTTPResponse {
        await receive(request, dispatch: route.dispatch) { fields throws(CallbackRefusal) in
            let authentic: AuthenticCallback<PaymentCallback>
            do throws(CallbackRefusal) {
                authentic = try authenticator.payment(fields: fields, rawBody: request.body) { id in
                    configuration.merchants[id]?.keys
                }
            } catch {
                if error == .unknownMerchant, let id = fields["merchant_id"]?.numberLiteral {
                    logger.warning("payment callback for an unknown merchant", metadata: ["merchant_id": "\(id)"])
                }
                throw error
            }
            let event = NewInboxEvent.payment(
                authentic.callback, contentHash: authentic.contentHash, rawBody: request.body, receivedAt: Date())
            return (event, .payment(authentic.callback))
        }
    }

    /// What every callback route does around its own verification: size,
    /// media type and JSON (``parseJSONObject(_:)``), then `authenticate`,
    /// then the store and the answer (handing the decoded callback on to the
    /// dispatch); a refusal is logged and answered.
    func receive(
        _ request: HTTPRequest, dispatch: DispatchMode,
        authenticate: (JSONObject) throws(CallbackRefusal) -> (NewInboxEvent, DecodedCallback)
    ) async -> HTTPResponse {
        let event: NewInboxEvent
        let decoded: DecodedCallback
        do throws(Rejection) {
            let fields = try parseJSONObject(request)
            do throws(CallbackRefusal) {
                (event, decoded) = try authenticate(fields)
            } catch {
                throw .refused(error)
            }
        } catch {
            logRejection(error, path: request.path)
            return error.response
        }
        return await accept(event, decoded: decoded, mode: dispatch)
    }

    func logRejection(_ rejection: Rejection, path: String) {
        logger.log(
            level: rejection.isSuspicious ? .warning : .info, "callback rejected",
            metadata: [
                "path": "\(path)", "status": "\(rejection.response.status.code)", "error": "\(rejection.code)",
            ])
    }
}

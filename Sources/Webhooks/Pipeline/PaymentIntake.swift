import Foundation
import HTTPServer
import Inbox
import Logging
import TrustPay

extension WebhookPipeline {
    /// `POST` of a payin or payout callback.
    func receivePayment(_ request: HTTPRequest, route: PaymentRoute) async -> HTTPResponse {
        let event: NewInboxEvent
        do throws(Rejection) {
            let fields = try parseJSONObject(request)
            let authentic: AuthenticCallback<PaymentCallback>
            do throws(CallbackRefusal) {
                authentic = try authenticator.payment(fields: fields, rawBody: request.body) { id in
                    configuration.merchants[id]?.keys
                }
            } catch {
                if error == .unknownMerchant, let id = fields["merchant_id"]?.numberLiteral {
                    logger.warning("payment callback for an unknown merchant", metadata: ["merchant_id": "\(id)"])
                }
                throw .refused(error)
            }
            let callback = authentic.callback
            event = NewInboxEvent(
                key: .payment(callback), contentHash: authentic.contentHash, kind: .payment,
                merchantID: callback.merchantID, orderType: callback.type.rawValue, orderNo: callback.orderNo,
                status: callback.status.code, order: .payment(callback),
                statusRank: OrderProgress.rank(of: callback.status), rawBody: request.body, receivedAt: Date())
        } catch {
            logRejection(error, path: request.path)
            return error.response
        }
        return await accept(event, mode: route.dispatch)
    }

    func logRejection(_ rejection: Rejection, path: String) {
        logger.log(
            level: rejection.isSuspicious ? .warning : .info, "callback rejected",
            metadata: [
                "path": "\(path)", "status": "\(rejection.response.status.code)", "error": "\(rejection.code)",
            ])
    }
}

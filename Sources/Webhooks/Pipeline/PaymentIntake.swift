import Foundation
import HTTPServer
import Logging
import TrustPay

extension WebhookPipeline {
    /// `POST` of a payin or payout callback.
    func receivePayment(_ request: HTTPRequest, route: PaymentRoute) async -> HTTPResponse {
        let event: NewInboxEvent
        do throws(Rejection) {
            let fields = try parseJSONObject(request)
            let callback: PaymentCallback
            do throws(CallbackDecodingError) {
                callback = try PaymentCallback(fields: fields, rawBody: request.body)
            } catch {
                throw .invalidCallback(error)
            }
            guard let merchant = configuration.merchants[callback.merchantID] else {
                logger.warning("payment callback for an unknown merchant", metadata: ["merchant_id": "\(callback.merchantID)"])
                throw .unknownMerchant
            }
            try verify(fields, for: merchant)
            event = NewInboxEvent(
                key: .payment(callback), contentHash: ContentHash.of(fields), kind: .payment,
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
        let level: Logger.Level =
            switch rejection {
            case .signature, .unknownMerchant: .warning
            default: .info
            }
        logger.log(
            level: level, "callback rejected",
            metadata: ["path": "\(path)", "status": "\(rejection.response.status.code)"])
    }
}

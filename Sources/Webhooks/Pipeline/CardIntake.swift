import Foundation
import HTTPServer
import Inbox
import Logging
import TrustPay

extension WebhookPipeline {
    /// `POST` of an open-card or recharge callback.
    func receiveCard(_ request: HTTPRequest, route: CardRoute) async -> HTTPResponse {
        let event: NewInboxEvent
        do throws(Rejection) {
            let fields = try parseJSONObject(request)
            let merchant = cardMerchant(route: route, query: request.query)
            let authentic: AuthenticCallback<CardCallback>
            do throws(CallbackRefusal) {
                authentic = try authenticator.card(fields: fields, rawBody: request.body, merchant: merchant?.keys)
            } catch {
                throw .refused(error)
            }
            let callback = authentic.callback
            event = NewInboxEvent(
                key: .card(callback, merchantID: authentic.merchantID), contentHash: authentic.contentHash,
                kind: .card, merchantID: authentic.merchantID, orderType: nil, orderNo: callback.orderNo,
                status: callback.status, order: .card(callback, merchantID: authentic.merchantID), statusRank: nil,
                rawBody: request.body, receivedAt: Date())
        } catch {
            logRejection(error, path: request.path)
            return error.response
        }
        return await accept(event, mode: route.dispatch)
    }

    /// The route's merchant, else the `merchant` query parameter's, else the only one.
    private func cardMerchant(route: CardRoute, query: String?) -> Merchant? {
        if let id = route.merchantID { return configuration.merchants[id] }
        let parameter = query?.split(separator: "&").lazy
            .map { $0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false) }
            .first { $0.first == "merchant" }
        if let parameter {
            guard parameter.count == 2, let id = Int64(parameter[1]) else { return nil }
            return configuration.merchants[id]
        }
        return configuration.merchants.soleMerchant
    }
}

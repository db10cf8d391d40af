import Foundation
import HTTPServer
import Inbox
import Logging
import TrustPay

extension WebhookPipeline {
    /// `POST` of an open-card or recharge callback.
    func receiveCard(_ request: HTTPRequest, route: CardRoute) async -> HTTPResponse {
        await receive(verifyCard(request, route: route), dispatch: route.dispatch)
    }

    /// The card callback in `request`, verified, as an event to record.
    @inline(never)  // See ``Verification``.
    private func verifyCard(_ request: HTTPRequest, route: CardRoute) -> Verification {
        verify(request) { fields throws(CallbackRefusal) in
            let merchant = cardMerchant(route: route, query: request.query)
            let authentic = try authenticator.card(fields: fields, rawBody: request.body, merchant: merchant?.keys)
            return (.card(authentic, rawBody: request.body, receivedAt: Date()), .card(authentic.callback))
        }
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

import Foundation
import HTTPServer
import Inbox
import Logging
import TrustPay

extension WebhookPipeline {
    /// `POST` of a payin or payout callback.
    func receivePayment(_ request: HTTPRequest, route: PaymentRoute) async -> HTTPResponse {
        await receive(verifyPayment(request), dispatch: route.dispatch)
    }

    /// The payment callback in `request`, verified, as an event to record.
    @inline(never)  // See ``Verification``.
    private func verifyPayment(_ request: HTTPRequest) -> Verification {
        verify(request) { fields throws(CallbackRefusal) in
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

    /// What a callback route does after its own verification: the store and
    /// the answer (handing the decoded callback on to the dispatch), or the
    /// refusal's answer.
    func receive(_ verification: Verification, dispatch: DispatchMode) async -> HTTPResponse {
        switch verification {
        case .refused(let response): response
        case .verified(let event, let decoded): await accept(event, decoded: decoded, mode: dispatch)
        }
    }

    /// What every callback route does around its own verification: size,
    /// media type and JSON (``parseJSONObject(_:)``), then `authenticate`;
    /// a refusal is logged and answered.
    func verify(
        _ request: HTTPRequest,
        authenticate: (JSONObject) throws(CallbackRefusal) -> (NewInboxEvent, DecodedCallback)
    ) -> Verification {
        do throws(Rejection) {
            let fields = try parseJSONObject(request)
            do throws(CallbackRefusal) {
                let (event, decoded) = try authenticate(fields)
                return .verified(event, decoded)
            } catch {
                throw .refused(error)
            }
        } catch {
            logRejection(error, path: request.path)
            return .refused(error.response)
        }
    }

    func logRejection(_ rejection: Rejection, path: String) {
        logger.log(
            level: rejection.isSuspicious ? .warning : .info, "callback rejected",
            metadata: [
                "path": "\(path)", "status": "\(rejection.response.status.code)", "error": "\(rejection.code)",
            ])
    }
}

/// A callback verified, or the answer refusing it.
///
/// Verification is synchronous and runs in functions of its own that are
/// never inlined into the async ones: inlined, its temporaries (the parsed
/// JSON, the callback's fields, the signed text) were part of the request
/// task's async frame, which the task allocator takes from malloc beyond
/// its first slab (8 KiB per request, and glibc consolidated its free lists
/// on every such request).
enum Verification {
    case verified(NewInboxEvent, DecodedCallback)
    case refused(HTTPResponse)
}

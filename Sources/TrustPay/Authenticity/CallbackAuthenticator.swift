import Crypto  // Insecure.MD5: the verified text, hashed once

/// The one way a body becomes an authentic callback: decode it under the
/// rules of ``SignedContent``, find the merchant, verify the signature, then
/// prove the typed callback is exactly what was signed.
///
/// ```swift
/// let authenticator = CallbackAuthenticator()
/// let payment = try authenticator.payment(body: body) { id in
///     id == 8820250900009 ? MerchantKeys(merchantID: id, secrets: [secret]) : nil
/// }
/// store(payment.callback, contentHash: payment.contentHash)
/// ```
///
/// Refusals come in the order a merchant can act on them: the body's shape
/// and types, then the merchant, then the signature, then the round trip.
public struct CallbackAuthenticator: Sendable {
    public let signature: TrustPaySignature

    public init(signature: TrustPaySignature = TrustPaySignature()) {
        self.signature = signature
    }

    // MARK: payments

    /// A payin or payout callback from its raw body; `keys` gives the
    /// merchant of a `merchant_id`, or `nil` when none is configured.
    public func payment(
        body: some Collection<UInt8>, keys: (Int64) -> MerchantKeys?
    ) throws(CallbackRefusal) -> AuthenticCallback<PaymentCallback> {
        let bytes = Array(body)
        return try payment(fields: try Self.object(bytes), rawBody: bytes, keys: keys)
    }

    /// A payin or payout callback from fields already parsed from `rawBody`.
    public func payment(
        fields: JSONObject, rawBody: [UInt8], keys: (Int64) -> MerchantKeys?
    ) throws(CallbackRefusal) -> AuthenticCallback<PaymentCallback> {
        let callback: PaymentCallback
        // Decoded without writing the fields back: most bodies never need
        // it (see ``SignedContent/roundTrips(rendersAsTransmitted:fields:verified:signature:form:writtenBack:)``).
        var flag = RenderedBack(object: JSONObject(), rendersAsTransmitted: false)
        do throws(CallbackDecodingError) {
            callback = try PaymentCallback(fields: fields, rawBody: rawBody, renderedBack: &flag, writingBack: false)
        } catch {
            throw .undecodable(error)
        }
        guard let merchant = keys(callback.merchantID) else { throw .unknownMerchant }
        return try authenticate(
            callback, fields: fields, rendersAsTransmitted: flag.rendersAsTransmitted, merchant: merchant
        ) {
            // The same decode, which succeeded above, now writing back. Were
            // it to fail, the empty object signs nothing and the round trip
            // refuses the body.
            var renderedBack = RenderedBack(object: JSONObject(), rendersAsTransmitted: false)
            _ = try? PaymentCallback(fields: fields, rawBody: rawBody, renderedBack: &renderedBack)
            return renderedBack.object
        }
    }

    // MARK: cards

    /// An open-card or recharge callback from its raw body, for the merchant
    /// of the route it arrived on (`nil` when none could be chosen).
    public func card(
        body: some Collection<UInt8>, merchant: MerchantKeys?
    ) throws(CallbackRefusal) -> AuthenticCallback<CardCallback> {
        let bytes = Array(body)
        return try card(fields: try Self.object(bytes), rawBody: bytes, merchant: merchant)
    }

    /// A card callback from fields already parsed from `rawBody`. A
    /// `merchant_id` in the body must be the route's merchant.
    public func card(
        fields: JSONObject, rawBody: [UInt8], merchant: MerchantKeys?
    ) throws(CallbackRefusal) -> AuthenticCallback<CardCallback> {
        let callback: CardCallback
        do throws(CallbackDecodingError) {
            callback = try CardCallback(fields: fields, rawBody: rawBody)
        } catch {
            throw .undecodable(error)
        }
        guard let merchant else { throw .unknownMerchant }
        if let named = callback.merchantID, named != merchant.merchantID { throw .merchantMismatch }
        return try authenticate(
            callback, fields: fields, rendersAsTransmitted: callback.renderedBack.rendersAsTransmitted,
            merchant: merchant, writtenBack: { callback.renderedBack.object })
    }

    // MARK: the shared steps

    private func authenticate<Callback>(
        _ callback: Callback, fields: JSONObject, rendersAsTransmitted: Bool, merchant: MerchantKeys,
        writtenBack: () -> JSONObject
    ) throws(CallbackRefusal) -> AuthenticCallback<Callback> {
        let secretIndex: Int
        let form: NumberForm
        let verified: [UInt8]
        let hashedText: Insecure.MD5
        switch signature.match(fields, secrets: merchant.secrets, forms: merchant.forms) {
        case .success(let match): (secretIndex, form, verified, hashedText) = match
        case .failure(let failure): throw .signature(failure)
        }
        guard SignedContent.roundTrips(
            rendersAsTransmitted: rendersAsTransmitted, fields: fields, verified: verified, signature: signature,
            form: form, writtenBack: writtenBack)
        else {
            throw .ambiguousBody
        }
        return AuthenticCallback(
            callback: callback, merchantID: merchant.merchantID, secretIndex: secretIndex, form: form,
            contentHash: SignedContent.contentHash(ofHashedText: hashedText))
    }

    private static func object(_ bytes: [UInt8]) throws(CallbackRefusal) -> JSONObject {
        do throws(CallbackDecodingError) {
            return try CallbackFields.parse(bytes)
        } catch {
            throw .undecodable(error)
        }
    }
}

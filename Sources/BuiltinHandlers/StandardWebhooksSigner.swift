import Crypto
import Foundation

/// Signs outgoing requests the Standard Webhooks way, so any language's
/// Standard Webhooks library can verify them: HMAC-SHA256 over
/// `"{id}.{timestamp}.{body}"` with the secret's bytes, sent as
/// `webhook-signature: v1,<base64>`.
package struct StandardWebhooksSigner: Sendable {
    private let key: [UInt8]

    /// `secret` is `whsec_` followed by base64 (the usual form), or bare base64.
    package init(secret: String) throws(SinkFailure) {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let data = Data(base64Encoded: encoded), !data.isEmpty else {
            throw SinkFailure("the forward secret must be whsec_ followed by base64")
        }
        key = Array(data)
    }

    package func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Data(code).base64EncodedString()
    }

    package func headers(id: String, timestamp: Int, body: [UInt8]) -> [(String, String)] {
        [("webhook-id", id), ("webhook-timestamp", String(timestamp)),
         ("webhook-signature", signature(id: id, timestamp: timestamp, body: body))]
    }
}

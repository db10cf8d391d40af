import HTTPServer
import TrustPay

extension WebhookPipeline {
    /// Size and media type, then the JSON object: the steps every callback route shares.
    func parseJSONObject(_ request: HTTPRequest) throws(Rejection) -> JSONObject {
        guard request.body.count <= configuration.maxBodyBytes else {
            throw .payloadTooLarge(limit: configuration.maxBodyBytes)
        }
        guard MediaType.isJSON(request.headers) else { throw .unsupportedMediaType }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: request.body)
        } catch {
            throw .invalidJSON("the body is not valid JSON (\(error))")
        }
        guard case .object(let fields) = value else { throw .invalidJSON("the body is JSON but not an object") }
        return fields
    }
}
